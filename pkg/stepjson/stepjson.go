// Package stepjson lets a step hand flowrun its output already written as
// JSON, so that an output nobody reads (steps.Input.OutputUnread) is not
// built as values only for flowrun to encode them: flowrun keeps an Output
// as the output's JSON, as it is, and writes those bytes to the journal,
// the report and results files.
//
// It can do so without checking them again because this package is the
// only way to make one: a Text is checked when it is made (CheckText),
// and an Output is written from Texts and plain values only (Object,
// Value), byte for byte as flowrun writes the value it stands for — an
// object's keys sorted, strings escaped as flowrun escapes them — so that
// masking, which may judge an output by its JSON, sees each string in the
// form it decodes to.
//
// flowrun's http step uses it for responses whose body is plain JSON:
//
//	body, ok := stepjson.CheckText(text) // once per response
//	out, err := stepjson.Object(
//		stepjson.Field{Key: "status", Value: resp.StatusCode},
//		stepjson.Field{Key: "body", Value: body},
//	)
//
// A step that returns an Output while its output is read gets it decoded
// to plain values, as if it had returned them.
package stepjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/flowrun/flowrun/internal/jsonenc"
	"github.com/flowrun/flowrun/pkg/steps"
)

// Text is JSON text checked by CheckText: one value, compact, ASCII
// without a backslash (so each string reads in it as it decodes), with no
// key twice in an object, nested at most steps.MaxJSONDepth deep. The zero
// Text holds nothing and is written as null. (A pointer inside, so that
// a Text goes into an interface without a copy.)
type Text struct{ p *written }

// written is JSON this package wrote or checked, and how deep it nests;
// nil writes as null.
type written struct {
	b     []byte
	depth int
}

func (w *written) bytes() []byte {
	if w == nil {
		return nil
	}
	return w.b
}

func (w *written) nesting() int {
	if w == nil {
		return 0
	}
	return w.depth
}

// appendTo appends the JSON, null for nil.
func (w *written) appendTo(b []byte) []byte {
	if w == nil {
		return append(b, "null"...)
	}
	return append(b, w.b...)
}

// maxDepth bounds how deep an Output nests: what flowrun writes and reads
// back (jsonenc refuses deeper values; a Text nests at most
// steps.MaxJSONDepth deep, so an object of Texts fits).
const maxDepth = 2 * steps.MaxJSONDepth

// CheckText returns text as a Text, a copy of its own, when it is one
// JSON value that reads as the value it decodes to: ASCII without a
// backslash, no key twice in an object, at most steps.MaxJSONDepth deep.
// White space around the value and between its tokens is dropped. ok is
// false for any other text (invalid JSON included): decode it instead.
func CheckText(text []byte) (t Text, ok bool) {
	// White space around the value (the newline most servers end a body
	// with) is not part of it.
	v := bytes.Trim(text, " \t\r\n")
	var out []byte
	if jsonenc.PlainCompact(v) { // plain too
		if !json.Valid(v) {
			return Text{}, false
		}
		out = bytes.Clone(v)
	} else {
		if !plain(v) {
			return Text{}, false
		}
		buf := bytes.NewBuffer(make([]byte, 0, len(v)))
		if json.Compact(buf, v) != nil {
			return Text{}, false
		}
		out = buf.Bytes()
	}
	depth, ok := checkKeys(out)
	if !ok {
		return Text{}, false
	}
	return Text{&written{out, depth}}, true
}

// plain reports whether text is ASCII without a backslash.
func plain(text []byte) bool {
	for _, c := range text {
		if c >= 0x80 || c == '\\' {
			return false
		}
	}
	return true
}

// Bytes returns the text, nil for the zero Text. Do not modify it.
func (t Text) Bytes() []byte { return t.p.bytes() }

// Output is a step's output written as JSON by Object or Value. Return it
// from Step.Run as the output. (A pointer inside, as in Text.)
type Output struct{ p *written }

// Bytes returns the JSON, nil for the zero Output. Do not modify it.
func (o Output) Bytes() []byte { return o.p.bytes() }

// MarshalJSON returns the JSON (null for the zero Output), so that
// encoding/json writes an Output as the value it stands for.
func (o Output) MarshalJSON() ([]byte, error) { return o.p.appendTo(nil), nil }

// Field is a member of an object Object writes.
type Field struct {
	Key   string
	Value any
}

// stackFields is the most fields Object sorts on the stack.
const stackFields = 8

// Object writes the object of fields, in the order of their keys, which
// must differ and be valid UTF-8. A value is nil, a bool, a string, an
// int or int64, a finite float64, a Text, an Output, or a map[string]any
// (keys valid UTF-8) or []any of those plain shapes (not of Texts,
// Outputs or json.RawMessage): anything else, a NaN, two fields of one
// key, or an object nested more than 2,000 levels deep is an error.
func Object(fields ...Field) (Output, error) {
	var small [stackFields]Field
	sorted := append(small[:0], fields...)
	// Insertion sort: a few fields.
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && sorted[j-1].Key > sorted[j].Key; j-- {
			sorted[j-1], sorted[j] = sorted[j], sorted[j-1]
		}
	}
	n, depth := 2, 1
	for i, f := range sorted {
		if i > 0 && f.Key == sorted[i-1].Key {
			return Output{}, fmt.Errorf("stepjson: two fields of key %q", f.Key)
		}
		var d int
		var err error
		switch v := f.Value.(type) {
		case Text:
			d, err = 1+v.p.nesting(), depthWithin(1+v.p.nesting())
			n += len(v.Bytes())
		case Output:
			d, err = 1+v.p.nesting(), depthWithin(1+v.p.nesting())
			n += len(v.Bytes())
		default:
			d, err = depthOf(v, 1)
		}
		if err != nil {
			return Output{}, fmt.Errorf("stepjson: field %q: %w", f.Key, err)
		}
		depth = max(depth, d)
		n += len(f.Key) + 4
	}
	b := make([]byte, 0, n+16*len(sorted))
	b = append(b, '{')
	for i, f := range sorted {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendKey(b, f.Key); !ok {
			// Two keys that are not could be written, and read back, as
			// one.
			return Output{}, fmt.Errorf("stepjson: key %q is not UTF-8", f.Key)
		}
		b = append(b, ':')
		switch v := f.Value.(type) {
		case Text:
			b = v.p.appendTo(b)
		case Output:
			b = v.p.appendTo(b)
		default:
			b, _ = jsonenc.AppendValue(b, v) // plain shapes: depthOf checked
		}
	}
	b = append(b, '}')
	return Output{&written{b, depth}}, nil
}

// appendKey appends a key as a JSON string: as it is when JSON escapes
// none of its bytes (the keys a step names are such), else as
// jsonenc.AppendString escapes it; ok is false for a key that is not
// valid UTF-8.
func appendKey(b []byte, key string) (out []byte, ok bool) {
	for i := 0; i < len(key); i++ {
		if escaped[key[i]] {
			if !utf8.ValidString(key) {
				return b, false
			}
			return jsonenc.AppendString(b, key), true
		}
	}
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"'), true
}

// escaped marks the bytes a JSON string may not hold as they are, or that
// begin a character jsonenc.AppendString may rewrite: control
// characters, the quote, the backslash, and every byte past ASCII.
var escaped = func() (t [256]bool) {
	for c := range t {
		t[c] = c < 0x20 || c >= 0x80 || c == '"' || c == '\\'
	}
	return t
}()

// Value writes v, one of the values Object takes but a Text or an Output.
func Value(v any) (Output, error) {
	depth, err := depthOf(v, 0)
	if err != nil {
		return Output{}, fmt.Errorf("stepjson: %w", err)
	}
	b, _ := jsonenc.AppendValue(nil, v) // plain shapes: depthOf checked
	return Output{&written{b, depth}}, nil
}

// depthOf returns how deep v nests, in containers, when it sits d
// containers down and is of the plain shapes: nil, a bool, a string, an
// int or int64, a finite float64, a map[string]any with keys that are
// valid UTF-8 or a []any of them; an error for anything else (a Text, an
// Output, a json.RawMessage among them), or past maxDepth.
func depthOf(v any, d int) (int, error) {
	if err := depthWithin(d); err != nil {
		return 0, err
	}
	switch v := v.(type) {
	case nil, bool, string, int, int64:
		return d, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%v has no JSON form", v)
		}
		return d, nil
	case map[string]any:
		deepest := d + 1
		for k, x := range v {
			if !utf8.ValidString(k) {
				return 0, fmt.Errorf("key %q is not UTF-8", k)
			}
			xd, err := depthOf(x, d+1)
			if err != nil {
				return 0, err
			}
			deepest = max(deepest, xd)
		}
		return deepest, depthWithin(deepest)
	case []any:
		deepest := d + 1
		for _, x := range v {
			xd, err := depthOf(x, d+1)
			if err != nil {
				return 0, err
			}
			deepest = max(deepest, xd)
		}
		return deepest, depthWithin(deepest)
	}
	return 0, fmt.Errorf("a value of type %T (a Text or an Output only as a field of Object)", v)
}

// depthWithin is the error for a depth past maxDepth.
func depthWithin(d int) error {
	if d > maxDepth {
		return fmt.Errorf("nested more than %d levels deep", maxDepth)
	}
	return nil
}
