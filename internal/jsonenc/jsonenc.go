// Package jsonenc appends JSON values to byte slices without reflection,
// for the records flowrun writes by the million (journal records, report
// results): each function writes what encoding/json writes for the same
// value, but for the HTML escaping encoding/json adds by default and these
// leave out (both are valid JSON that decodes to the same value).
package jsonenc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/flowrun/flowrun/pkg/steps"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, byte for byte as encoding/json
// would (without its HTML escaping): invalid UTF-8 becomes U+FFFD, control
// characters (\b, \f, \n, \r, \t short, the others \u00XX) and
// U+2028/U+2029 are escaped, so every line stays one valid JSON value, and
// a secret in the text reads in the form a masker looks for.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendFloat appends f as encoding/json writes a float64: the shortest
// decimal that reads back as f, in exponent form below 1e-6 and from
// 1e21. NaN and infinities have no JSON form: an error.
func AppendFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, errors.New("json: unsupported value: " + strconv.FormatFloat(f, 'g', -1, 64))
	}
	if b, ok := AppendThousandths(b, f); ok {
		return b, nil
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// AppendThousandths appends f as strconv.AppendFloat(b, f, 'f', -1, 64)
// does, without its general algorithm, when f is a whole number of
// thousandths below 1e12 in magnitude: the milliseconds flowrun measures
// (float64(µs)/1000), written for every item of a block. ok is false,
// and b unchanged, for any other f.
//
// Such an f is the double nearest to k/1000 for k = f×1000 rounded, and
// below 1e12 doubles lie closer together than 0.001, so no decimal
// shorter than k/1000's reads back as f: k/1000 is the shortest form,
// and strconv's. (TestAppendThousandths holds it to strconv.)
func AppendThousandths(b []byte, f float64) ([]byte, bool) {
	if !(f > -1e12 && f < 1e12) || f == 0 {
		return b, false // and NaN; zero keeps strconv's sign
	}
	k := math.Round(f * 1000)
	if k/1000 != f {
		return b, false
	}
	n := int64(k)
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	b = strconv.AppendInt(b, n/1000, 10)
	if frac := n % 1000; frac != 0 {
		digits := [4]byte{'.', byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
		end := 4
		for digits[end-1] == '0' {
			end--
		}
		b = append(b, digits[:end]...)
	}
	return b, true
}

// maxDepth bounds the nesting of lists and maps AppendValue writes: twice
// what flowrun reads from JSON (steps.MaxJSONDepth), room for a value read
// at that limit inside outputs and lists, and far within what
// encoding/json reads back (10,000 levels) once the journal or a report
// puts it inside its own document, a kept JSON text (at most
// steps.MaxJSONDepth levels of its own) included. It also stops a value
// that contains itself.
const maxDepth = 2 * steps.MaxJSONDepth

// ErrTooDeep is the error for a value nested deeper than maxDepth, or that
// contains itself. Output does not write such a value another way: it
// could not be read back.
var ErrTooDeep = fmt.Errorf("json: value nested more than %d levels deep (or containing itself)", maxDepth)

// AppendValue appends v as JSON: the plain shapes flowrun's values take
// (nil, strings, booleans, ints, float64, []any, map[string]any with its
// keys sorted) without reflection, anything else through encoding/json.
// A float that is NaN or infinite, which JSON cannot hold, is written as
// the string "NaN", "+Inf" or "-Inf" (flowrun's policy: steps.NonFinite).
// Otherwise it decodes to what json.Marshal's output decodes to, and
// fails where json.Marshal fails (a non-finite float inside another type,
// a value nested past 1000 levels).
func AppendValue(b []byte, v any) ([]byte, error) { return appendValue(b, v, 0, nil) }

// AppendPlain is AppendValue, also reporting whether v is made of plain
// shapes only and holds no NaN or infinity: false when some part of it was
// written by encoding/json (a []string, a struct, a type with its own
// MarshalJSON), whose JSON a reader cannot tell from the value's own
// shape, or is a float written as a string.
func AppendPlain(b []byte, v any) ([]byte, bool, error) {
	b, sh, err := AppendShape(b, v)
	return b, sh.Plain, err
}

// Shape is what AppendShape tells of a value besides its JSON.
type Shape struct {
	// Plain is AppendPlain's answer.
	Plain bool
	// NonFinite is set when a float64 of v's plain shapes was NaN or
	// infinite, and so written as a string. (One inside another type
	// makes AppendValue fail.) Without it, the JSON holds no such
	// string that was a float: a reader need not look for one.
	NonFinite bool
}

// AppendShape is AppendPlain, also telling a NaN or infinity apart from
// the other reasons a value is not plain.
func AppendShape(b []byte, v any) ([]byte, Shape, error) {
	sh := Shape{Plain: true}
	b, err := appendValue(b, v, 0, &sh)
	return b, sh, err
}

// Output appends v as flowrun writes a value into JSON — reports, the
// journal, results files —: AppendShape, or, for a value of another type
// that holds a NaN or ±Inf (which encoding/json refuses), encoding/json
// over steps.NonFinite, which writes them as strings; the shape then says
// NonFinite and not Plain. It fails for a value JSON cannot hold either
// way (a channel), and for one nested deeper than flowrun could read back
// (ErrTooDeep, a cycle too).
func Output(b []byte, v any) ([]byte, Shape, error) {
	n := len(b)
	b, sh, err := AppendShape(b, v)
	if err == nil || errors.Is(err, ErrTooDeep) {
		return b, sh, err
	}
	out, err := json.Marshal(steps.NonFinite(v, "", nil))
	return append(b[:n], out...), Shape{NonFinite: true}, err
}

// appendRaw appends JSON text compacted, failing as json.Marshal does
// on text that is not one JSON value. It is plain when its text is ASCII
// without a backslash: then each string reads in it as it decodes, and
// what is found in the text (a secret, a URL) is what is in the value.
func appendRaw(b []byte, raw json.RawMessage, sh *Shape) ([]byte, error) {
	if len(raw) == 0 {
		return append(b, "null"...), nil // as json.Marshal writes it
	}
	if PlainCompact(raw) && json.Valid(raw) {
		// Already compact, and plain: copied as it is. (Most are: the
		// http step keeps bodies of this kind, compacted.)
		return append(b, raw...), nil
	}
	n := len(b)
	buf := bytes.NewBuffer(b)
	if err := json.Compact(buf, raw); err != nil {
		return b[:n], fmt.Errorf("json: error calling MarshalJSON for type json.RawMessage: %w", err)
	}
	b = buf.Bytes()
	if sh != nil {
		for _, c := range b[n:] {
			if c >= utf8.RuneSelf || c == '\\' {
				sh.Plain = false
				break
			}
		}
	}
	return b, nil
}

// PlainCompact reports whether JSON text is ASCII without a backslash and
// has no white space outside its strings (which, without a backslash,
// run from a quote to the next): text that compacting would not change.
// It does not validate.
func PlainCompact(text []byte) bool {
	in := false
	for _, c := range text {
		switch {
		case c >= utf8.RuneSelf || c == '\\':
			return false
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return false
		}
	}
	return true
}

// smallMap is the most keys a map may have for its sorted keys to be kept
// on the stack: outputs are mostly small objects, written by the million.
const smallMap = 16

func appendValue(b []byte, v any, depth int, sh *Shape) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return AppendString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if sh != nil {
				sh.Plain, sh.NonFinite = false, true
			}
			return AppendString(b, strconv.FormatFloat(v, 'g', -1, 64)), nil
		}
		return AppendFloat(b, v)
	case []any:
		if depth >= maxDepth {
			return b, ErrTooDeep
		}
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendValue(b, x, depth+1, sh); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		if depth >= maxDepth {
			return b, ErrTooDeep
		}
		if len(v) <= smallMap {
			return appendSmallMap(b, v, depth, sh)
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(AppendString(b, k), ':')
			if b, err = appendValue(b, v[k], depth+1, sh); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		return appendRaw(b, raw, sh)
	}
	if sh != nil {
		sh.Plain = false
	}
	out, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, out...), nil
}

// appendSmallMap appends a map of at most smallMap entries, sorted by key
// on the stack: no allocation, and no second lookup of each key.
func appendSmallMap(b []byte, v map[string]any, depth int, sh *Shape) ([]byte, error) {
	var small [smallMap]entry
	es := small[:0]
	for k, x := range v {
		// Insertion sort: a few keys.
		i := len(es)
		es = append(es, entry{})
		for i > 0 && es[i-1].k > k {
			es[i] = es[i-1]
			i--
		}
		es[i] = entry{k, x}
	}
	b = append(b, '{')
	var err error
	for i, e := range es {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(AppendString(b, e.k), ':')
		if b, err = appendValue(b, e.v, depth+1, sh); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

type entry struct {
	k string
	v any
}
