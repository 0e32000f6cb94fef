package state

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// parseFast decodes a line in the shape the Writer writes — one flat
// object of known fields, strings without escapes, integers, a duration
// and an output of any JSON — without reflection, for loading a journal of
// a million records quickly. It reports false for anything else (escapes,
// nulls, unknown fields, odd numbers, invalid JSON), and the caller then
// decodes the line with encoding/json, which decides. When it reports
// true, rec holds what json.Unmarshal would have stored.
func parseFast(line []byte, rec *Record) bool {
	i := skipSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return false
	}
	i = skipSpace(line, i+1)
	if i < len(line) && line[i] == '}' {
		return skipSpace(line, i+1) == len(line)
	}
	for {
		name, j, ok := fastString(line, i)
		if !ok {
			return false
		}
		i = skipSpace(line, j)
		if i >= len(line) || line[i] != ':' {
			return false
		}
		i = skipSpace(line, i+1)
		switch name {
		case "type", "id", "step", "status", "error", "key":
			v, j, ok := fastBytes(line, i)
			if !ok {
				return false
			}
			var s string
			switch name {
			case "type":
				s = intern(v, TypeItem, TypeStep, TypeBlockStart, TypeBlockEnd, TypeRun)
			case "status":
				s = intern(v, defaultStatuses...)
			default:
				s = string(v)
			}
			switch name {
			case "type":
				rec.Type = s
			case "id":
				rec.ID = s
			case "step":
				rec.Step = s
			case "status":
				rec.Status = s
			case "error":
				rec.Error = s
			case "key":
				rec.Key = &s
			}
			i = j
		case "index", "attempts", "total":
			j := scanNumber(line, i)
			n, err := strconv.Atoi(string(line[i:j]))
			if j == i || err != nil || !isJSONInt(line[i:j]) {
				return false
			}
			switch name {
			case "index":
				rec.Index = &n
			case "attempts":
				rec.Attempts = n
			case "total":
				rec.Total = &n
			}
			i = j
		case "duration_ms":
			j := scanNumber(line, i)
			if !isJSONNumber(line[i:j]) {
				return false
			}
			f, err := strconv.ParseFloat(string(line[i:j]), 64)
			if err != nil {
				return false
			}
			rec.DurationMS = f
			i = j
		case "output_withheld":
			if !bytes.HasPrefix(line[i:], []byte("true")) {
				return false
			}
			rec.OutputWithheld = true
			i += len("true")
		case "output":
			j, ok := skipValue(line, i)
			if !ok || !json.Valid(line[i:j]) || line[i] == 'n' {
				return false // null (or anything odd): let encoding/json decide
			}
			rec.Output = append(json.RawMessage(nil), line[i:j]...)
			i = j
		default:
			return false
		}
		i = skipSpace(line, i)
		if i >= len(line) {
			return false
		}
		switch line[i] {
		case ',':
			i = skipSpace(line, i+1)
		case '}':
			return skipSpace(line, i+1) == len(line)
		default:
			return false
		}
	}
}

// intern returns the candidate equal to s, so that a million records share
// the strings of a few statuses and types; s when none is.
func intern(b []byte, candidates ...string) string {
	for _, c := range candidates {
		if c == string(b) {
			return c
		}
	}
	return string(b)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// fastBytes is fastString without the copy: the bytes of the string.
func fastBytes(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	start := i + 1
	ascii := true
	for j := start; j < len(b); j++ {
		c := b[j]
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(b[start:j]) {
				return nil, i, false
			}
			return b[start:j], j + 1, true
		case c == '\\' || c < 0x20:
			return nil, i, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, i, false
}

// fastString reads a JSON string at b[i] that needs no unescaping: valid
// UTF-8, no backslash, no control character.
func fastString(b []byte, i int) (string, int, bool) {
	v, j, ok := fastBytes(b, i)
	return string(v), j, ok
}

// scanNumber returns the end of the number-like bytes at b[i].
func scanNumber(b []byte, i int) int {
	for i < len(b) && (b[i] >= '0' && b[i] <= '9' || b[i] == '-' || b[i] == '+' || b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		i++
	}
	return i
}

// isJSONInt reports whether b is a JSON number with no fraction or
// exponent: -?(0|[1-9][0-9]*).
func isJSONInt(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 1 && b[0] == '0' {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isJSONNumber reports whether b is a JSON number.
func isJSONNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// skipValue returns the end of the JSON value at b[i], tracking strings
// and nesting only; json.Valid checks it afterwards.
func skipValue(b []byte, i int) (int, bool) {
	depth := 0
	for j := i; j < len(b); j++ {
		switch c := b[j]; c {
		case '"':
			for j++; j < len(b) && b[j] != '"'; j++ {
				if b[j] == '\\' {
					j++
				}
			}
			if j >= len(b) {
				return i, false
			}
			if depth == 0 {
				return j + 1, true
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return j, j > i
			}
			if depth == 0 {
				return j + 1, true
			}
		case ',':
			if depth == 0 {
				return j, j > i
			}
		case ' ', '\t', '\r', '\n':
			if depth == 0 {
				return j, j > i
			}
		}
	}
	return len(b), depth == 0 && len(b) > i
}
