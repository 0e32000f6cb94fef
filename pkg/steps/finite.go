package steps

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
)

// NonFinite is flowrun's policy for the numbers JSON cannot hold: a
// float that is NaN, +Inf or -Inf (`1 / inputs.zero`, `--set x=.nan`)
// is written into JSON — reports, results files, the journal, a list
// turned into text — as the string "NaN", "+Inf" or "-Inf", the text it
// has everywhere else (${{ }} in a string, environment variables). The
// document stays valid JSON and the value is not lost; a reader that
// wants a number sees a string rather than a silent null.
//
// NonFinite returns v with every such float replaced, at any depth. Only
// the maps and lists on the way to one are copied: v itself is returned,
// untouched, when it holds none. found, when not nil, is called with the
// path of each replaced value below path (path.key, path[i]).
//
// A reader that wants the numbers back takes NonFinitePaths beside the
// JSON, and RestoreNonFinite after decoding it.
func NonFinite(v any, path string, found func(path string, f float64)) any {
	var w *finiteWalk
	if found != nil {
		w = &finiteWalk{base: path, found: found}
	}
	out, _ := nonFinite(v, w, 0)
	return out
}

// FiniteText is how NonFinite writes f: "NaN", "+Inf" or "-Inf".
func FiniteText(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// maxFiniteDepth bounds the walk; JSON decoders refuse deeper values.
const maxFiniteDepth = 10000

// finiteWalk is what a walk that reports what it replaces carries; a
// walk that reports nothing has none (nil), and pays for no path.
type finiteWalk struct {
	base  string                // the root's path, for found
	found func(string, float64) // NonFinite's callback, or nil
	at    func([]any)           // NonFinitePaths' collector, or nil
	segs  []segment             // the path from the root to the value walked
}

// segment is one step of a path: a map key, or a list index when index
// is not negative.
type segment struct {
	key   string
	index int
}

func (w *finiteWalk) push(s segment) {
	if w != nil {
		w.segs = append(w.segs, s)
	}
}

func (w *finiteWalk) pop() {
	if w != nil {
		w.segs = w.segs[:len(w.segs)-1]
	}
}

// replaced reports a value replaced by its text: a float, or a struct
// that holds one (not a float any more, so not where NonFinitePaths
// points).
func (w *finiteWalk) replaced(f float64, float bool) {
	if w == nil {
		return
	}
	if w.found != nil {
		path := w.base
		for _, s := range w.segs {
			switch {
			case s.index >= 0:
				path += "[" + strconv.Itoa(s.index) + "]"
			case path == "":
				path = s.key
			default:
				path += "." + s.key
			}
		}
		w.found(path, f)
	}
	if w.at != nil && float {
		p := make([]any, len(w.segs))
		for i, s := range w.segs {
			if s.index >= 0 {
				p[i] = s.index
			} else {
				p[i] = s.key
			}
		}
		w.at(p)
	}
}

// nonFinite returns v with non-finite floats replaced and whether it
// replaced any.
func nonFinite(v any, w *finiteWalk, depth int) (any, bool) {
	if depth > maxFiniteDepth {
		return v, false
	}
	switch x := v.(type) {
	case nil, string, bool, int, int64, uint64, json.Number, json.RawMessage:
		return v, false
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			w.replaced(x, true)
			return FiniteText(x), true
		}
		return v, false
	case float32:
		return nonFinite(float64(x), w, depth)
	case []any:
		var cp []any
		for i, e := range x {
			w.push(segment{index: i})
			ne, changed := nonFinite(e, w, depth+1)
			w.pop()
			if changed {
				if cp == nil {
					cp = append([]any(nil), x...)
				}
				cp[i] = ne
			}
		}
		if cp == nil {
			return v, false
		}
		return cp, true
	case map[string]any:
		var cp map[string]any
		for k, e := range x {
			w.push(segment{key: k, index: -1})
			ne, changed := nonFinite(e, w, depth+1)
			w.pop()
			if changed {
				if cp == nil {
					cp = make(map[string]any, len(x))
					for k2, e2 := range x {
						cp[k2] = e2
					}
				}
				cp[k] = ne
			}
		}
		if cp == nil {
			return v, false
		}
		return cp, true
	}
	return nonFiniteReflect(v, w, depth)
}

// nonFiniteReflect handles typed lists and maps ([]float64 from an
// expression, a plugin's map[string]float64) by turning them into plain
// ones when they hold a non-finite float, and a struct or pointer that
// JSON cannot encode because of one into its text.
func nonFiniteReflect(v any, w *finiteWalk, depth int) (any, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		return nonFinite(rv.Float(), w, depth)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() == reflect.Uint8 {
			return v, false // []byte: JSON writes it as base64
		}
		var cp []any
		for i := range rv.Len() {
			e := rv.Index(i).Interface()
			w.push(segment{index: i})
			ne, changed := nonFinite(e, w, depth+1)
			w.pop()
			if changed && cp == nil {
				cp = make([]any, rv.Len())
				for j := range i {
					cp[j] = rv.Index(j).Interface()
				}
			}
			if cp != nil {
				cp[i] = ne
			}
		}
		if cp == nil {
			return v, false
		}
		return cp, true
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		var cp map[string]any
		iter := rv.MapRange()
		for iter.Next() {
			if _, changed := nonFinite(iter.Value().Interface(), nil, depth+1); changed {
				cp = make(map[string]any, rv.Len())
				break
			}
		}
		if cp == nil {
			return v, false
		}
		iter = rv.MapRange()
		for iter.Next() {
			k := iter.Key().String()
			w.push(segment{key: k, index: -1})
			cp[k], _ = nonFinite(iter.Value().Interface(), w, depth+1)
			w.pop()
		}
		return cp, true
	}
	var bad *json.UnsupportedValueError
	if _, err := json.Marshal(v); errors.As(err, &bad) {
		// A struct holding a NaN: its text, rather than no document.
		w.replaced(math.NaN(), false)
		return fmt.Sprint(v), true
	}
	return v, false
}
