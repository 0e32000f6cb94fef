package mask

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Value returns v, a value about to be written (an output, a result, an
// input), with every string in it masked, map keys included, whatever its
// shape: the plain shapes of decoded YAML and JSON, and also the typed
// values expressions and steps produce — []string from split(), maps
// and slices of any element type, pointers, structs. A number or a
// boolean whose text is a secret becomes the string Replacement.
//
// Slices, arrays and maps keyed by strings or integers are walked
// element by element and become []any and map[string]any where something
// in them is masked, as their JSON reads. Any other value (a struct, a
// time, a type with its own MarshalJSON, MarshalText or String) is
// written as its JSON or its text, so it is judged by those: when either
// holds something to mask, it becomes its JSON decoded to plain shapes,
// masked, or its masked text where it has no JSON.
//
// A value with nothing to mask is returned as it is, type and all; v
// itself is never modified: it may be shared with expressions that need
// the real value.
//
// So a report of 100,000 results that hold no secret and no URL is not
// copied: maps and slices are copied only from their first change.
func (m *Masker) Value(v any) any {
	out, _ := m.value(v, 0)
	return out
}

// ValueChanged is Value, also reporting whether anything changed: when
// not, the value returned is v itself.
func (m *Masker) ValueChanged(v any) (any, bool) { return m.value(v, 0) }

// maxDepth bounds the walk at the nesting encoding/json decodes: a value
// nested deeper can only be a cycle (a map that holds itself), which no
// writer can write either, and is Replacement past it.
const maxDepth = 10000

// value masks v and reports whether anything changed.
func (m *Masker) value(v any, depth int) (any, bool) {
	if depth > maxDepth {
		return Replacement, true
	}
	switch v := v.(type) {
	case nil, bool:
		return v, false
	case string:
		s := m.String(v)
		return s, s != v
	case []byte:
		// As text: outputs hold bytes a step read.
		return m.String(string(v)), true
	case json.RawMessage:
		return m.rawJSON(v, depth)
	case map[string]any:
		var out map[string]any // made at the first change
		keyMasked := false
		for k, x := range v {
			mk := m.String(k)
			mx, c := m.value(x, depth+1)
			if !c && mk == k {
				continue
			}
			if out == nil {
				out = make(map[string]any, len(v))
				for k2, x2 := range v {
					out[k2] = x2
				}
			}
			delete(out, k)
			out[mk] = mx
			keyMasked = keyMasked || mk != k
		}
		if out == nil {
			return v, false
		}
		if keyMasked {
			// Two keys may mask alike: which value the one key keeps
			// is then decided by the keys' order, not the map's.
			out = make(map[string]any, len(v))
			for _, k := range slices.Sorted(maps.Keys(v)) {
				mx, _ := m.value(v[k], depth+1)
				out[m.String(k)] = mx
			}
		}
		return out, true
	case []any:
		var out []any // made at the first change
		for i, x := range v {
			mx, c := m.value(x, depth+1)
			if c && out == nil {
				out = make([]any, len(v))
				copy(out, v)
			}
			if out != nil {
				out[i] = mx
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	case int, int64, float64, json.Number:
		if m.Empty() {
			return v, false // no number to mask: skip its text
		}
	}
	switch v := v.(type) {
	case int:
		return m.number(v, strconv.Itoa(v))
	case int64:
		return m.number(v, strconv.FormatInt(v, 10))
	case float64:
		return m.number(v, strconv.FormatFloat(v, 'f', -1, 64))
	case json.Number:
		return m.number(v, string(v))
	}
	if hasOwnEncoding(v) {
		return m.opaque(v, depth)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.String:
		if s := m.String(rv.String()); s != rv.String() {
			return s, true
		}
		return v, false
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return m.number(v, strconv.FormatInt(rv.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return m.number(v, strconv.FormatUint(rv.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		return m.number(v, strconv.FormatFloat(rv.Float(), 'f', -1, rv.Type().Bits()))
	case reflect.Bool:
		return v, false
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return v, false
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return m.opaque(v, depth) // bytes: JSON writes them as base64
		}
		out := make([]any, rv.Len())
		changed := false
		for i := range out {
			var c bool
			out[i], c = m.value(rv.Index(i).Interface(), depth+1)
			changed = changed || c
		}
		if !changed {
			return v, false
		}
		return out, true
	case reflect.Map:
		if rv.IsNil() {
			return v, false
		}
		switch rv.Type().Key().Kind() {
		case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		default:
			return m.opaque(v, depth)
		}
		if _, ok := reflect.New(rv.Type().Key()).Interface().(encoding.TextMarshaler); ok {
			return m.opaque(v, depth) // JSON writes such keys with MarshalText
		}
		out := make(map[string]any, rv.Len())
		changed := false
		// In the keys' order, so that two keys that mask alike keep
		// the same value in every run (as for map[string]any).
		type entry struct {
			k string
			v reflect.Value
		}
		entries := make([]entry, 0, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			entries = append(entries, entry{fmt.Sprint(it.Key().Interface()), it.Value()})
		}
		slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.k, b.k) })
		for _, e := range entries {
			mk := m.String(e.k)
			x, c := m.value(e.v.Interface(), depth+1)
			changed = changed || c || mk != e.k
			out[mk] = x
		}
		if !changed {
			return v, false
		}
		return out, true
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return v, false
		}
		x, c := m.value(rv.Elem().Interface(), depth+1)
		if !c {
			return v, false
		}
		return x, true
	}
	return m.opaque(v, depth)
}

// hasOwnEncoding reports whether v decides itself how it is written:
// then its elements or fields say nothing of what a writer shows.
func hasOwnEncoding(v any) bool {
	switch v.(type) {
	case json.Marshaler, encoding.TextMarshaler, fmt.Stringer:
		return true
	}
	return false
}

// opaque masks a value by what writers make of it: its JSON (the report,
// results files) and its text (a Stringer's String, or fmt's rendering
// when it has no JSON). When neither holds anything to mask (a URL
// without credentials is nothing to mask), v is kept. Otherwise v becomes
// its JSON decoded to plain shapes and masked, or, without JSON, its
// masked text.
func (m *Masker) opaque(v any, depth int) (any, bool) {
	b, jsonErr := json.Marshal(v)
	var text string
	switch s, ok := v.(fmt.Stringer); {
	case ok:
		text = s.String()
	case jsonErr != nil:
		text = fmt.Sprint(v)
	}
	if (jsonErr != nil || !m.Contains(b)) && !m.Contains([]byte(text)) {
		return v, false
	}
	if jsonErr == nil {
		var plain any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber() // whole numbers stay whole, as the JSON says
		if dec.Decode(&plain) == nil {
			out, changed := m.value(plain, depth+1)
			if !changed && (text == "" || m.String(text) == text) {
				// Contains found a URL with nothing to redact: v
				// writes as it is, not as a decoded copy.
				return v, false
			}
			return out, true
		}
	}
	return m.String(text), true
}

// rawJSON masks JSON text by the value it decodes to, judged from the
// text first (Contains looks for every form of a secret as JSON escapes
// it). An object is masked member by member: a member that masking leaves
// as it was keeps its text — its keys' order, its numbers as written —
// whatever another member needs masked. Text that holds a secret which
// decoding hid (the first of a key twice) is never written as it is: the
// member, or the value, is then written as decoded. Text that is not
// JSON is masked by what writers make of it (opaque).
func (m *Masker) rawJSON(v json.RawMessage, depth int) (any, bool) {
	if !m.Contains(v) {
		return v, false
	}
	if !json.Valid(v) {
		return m.opaque(v, depth)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(v, &members); err != nil || members == nil {
		// Not an object: masked whole.
		mx, c := m.value(decodeNumbers(v), depth+1)
		if !c && !m.HasSecret(v) {
			return v, false
		}
		return mx, true
	}
	out := make(map[string]any, len(members))
	changed := false
	// In key order, so that two keys that mask alike keep the same value
	// in every run (as in a map).
	for _, k := range slices.Sorted(maps.Keys(members)) {
		text := members[k]
		mx, c := m.value(decodeNumbers(text), depth+1)
		mk := m.String(k)
		if !c && mk == k && !m.HasSecret(text) {
			out[k] = text
			continue
		}
		out[mk], changed = mx, true
	}
	if !changed && !m.HasSecret(v) {
		return v, false
	}
	return out, true
}

// decodeNumbers decodes valid JSON text, whole numbers kept whole.
func decodeNumbers(text []byte) any {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	_ = dec.Decode(&v) // valid: checked by the caller
	return v
}

// number masks a number whose text is a secret: it becomes the string
// Replacement (or the text with the secret masked).
func (m *Masker) number(v any, text string) (any, bool) {
	if m.Empty() {
		return v, false
	}
	if s := m.String(text); s != text {
		return s, true
	}
	return v, false
}
