package spec

import (
	"math"
	"reflect"
	"slices"
	"strings"
)

// How a matrix's values are compared (include and exclude entries against
// combinations) and written as keys.

// comboKey writes a combination's key; see Matrix.Key.
func comboKey(names []string, c map[string]any) string {
	var b strings.Builder
	pair := func(k string, v any) {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		writeEscaped(&b, Text(v))
	}
	for _, k := range names {
		if v, ok := c[k]; ok {
			pair(k, v)
		}
	}
	if len(c) > len(names) || !hasAll(c, names) {
		var rest []string
		for k := range c {
			if !slices.Contains(names, k) {
				rest = append(rest, k)
			}
		}
		slices.Sort(rest)
		for _, k := range rest {
			pair(k, c[k])
		}
	}
	return b.String()
}

func hasAll(c map[string]any, names []string) bool {
	for _, k := range names {
		if _, ok := c[k]; !ok {
			return false
		}
	}
	return true
}

// writeEscaped writes s with `\`, `,` and `=` escaped by a backslash.
func writeEscaped(b *strings.Builder, s string) {
	if !strings.ContainsAny(s, `\,=`) {
		b.WriteString(s)
		return
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == ',' || c == '=' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
}

// matchValue reports whether v matches the filter value f, as GitHub
// Actions matches include and exclude entries: every leaf of f (a scalar
// inside its mappings and lists) equals the value at the same place in v,
// where a place v does not have holds null. An empty mapping or list has
// no leaves and matches anything.
func matchValue(f, v any) bool {
	switch f := f.(type) {
	case map[string]any:
		vm, _ := v.(map[string]any)
		for k, fe := range f {
			if !matchValue(fe, vm[k]) {
				return false
			}
		}
		return true
	case []any:
		vl, _ := asList(v)
		for i, fe := range f {
			var ve any
			if i < len(vl) {
				ve = vl[i]
			}
			if !matchValue(fe, ve) {
				return false
			}
		}
		return true
	}
	return equalLeaf(f, v)
}

// equalLeaf compares two scalars: numbers by value, whatever their Go
// types (integers exactly, beyond 2^53 too); anything else by type and
// value. A mapping or list is no leaf.
func equalLeaf(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x.equal(y)
	}
	ra, rb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ra != rb || !ra.Comparable() {
		return false
	}
	return a == b
}

// num is a number of any Go type: an integer as sign and magnitude, or a
// float.
type num struct {
	isInt bool
	neg   bool
	mag   uint64
	f     float64
}

func (x num) equal(y num) bool {
	switch {
	case x.isInt && y.isInt:
		return x.mag == y.mag && (x.neg == y.neg || x.mag == 0)
	case x.isInt:
		x, y = y, x
	case !y.isInt:
		return x.f == y.f
	}
	// x is a float, y an integer: equal only when x is that integer.
	if x.f != math.Trunc(x.f) || math.Abs(x.f) >= 1<<64 {
		return false
	}
	return (x.f < 0) == y.neg && uint64(math.Abs(x.f)) == y.mag
}

// number returns v as a num when it is a number.
func number(v any) (num, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i := rv.Int()
		if i < 0 {
			return num{isInt: true, neg: true, mag: uint64(-(i + 1)) + 1}, true
		}
		return num{isInt: true, mag: uint64(i)}, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return num{isInt: true, mag: rv.Uint()}, true
	case reflect.Float32, reflect.Float64:
		return num{f: rv.Float()}, true
	}
	return num{}, false
}

// asList returns v's elements when it is a list of any element type.
func asList(v any) ([]any, bool) {
	if l, ok := v.([]any); ok {
		return l, true
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}
