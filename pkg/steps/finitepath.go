package steps

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// NonFinitePaths returns where NonFinite(v) writes a float that is NaN,
// +Inf or -Inf as its text, so that a reader of the JSON can tell that
// string from one that was a string all along: one path per such float,
// each the keys (string) and list indices (int) that lead to it from v
// (an empty path is v itself). Through JSON a path stays exact whatever
// its keys hold ("a.b", "[0]"): it is a list of segments, not one text.
//
// It walks v as NonFinite does (maps, []any, typed lists and maps). A
// struct that NonFinite writes as its text is text: no path leads into
// it. Paths are sorted (indices before keys, each in order), so that
// the same value always gives the same list; nil when there are none,
// found by a walk that allocates nothing.
func NonFinitePaths(v any) [][]any {
	if _, changed := nonFinite(v, nil, 0); !changed {
		return nil // the common case, without a path kept on the way
	}
	var paths [][]any
	nonFinite(v, &finiteWalk{at: func(p []any) { paths = append(paths, p) }}, 0)
	slices.SortFunc(paths, comparePaths)
	return paths
}

// RestoreNonFinite undoes NonFinite where paths (NonFinitePaths of the
// value before it was written, possibly read back from JSON) point: the
// string "NaN", "+Inf" or "-Inf" there becomes the float64 it stood for.
// v is the value as decoded from JSON (maps of string keys, []any); it is
// modified in place and returned (the float itself for an empty path).
// Every other value, a string "NaN" that no path names included, stays
// as it is.
//
// A path that does not lead to one of those strings — a key or index
// missing, a segment of another type — is an error: what wrote the paths
// and the value disagree, and no value is guessed. A segment is a string
// (a key) or a whole number, as int, float64 or json.Number (an index).
func RestoreNonFinite(v any, paths [][]any) (any, error) {
	for _, p := range paths {
		var err error
		if v, err = restoreAt(v, p); err != nil {
			return nil, fmt.Errorf("non-finite number at %s: %w", pathText(p), err)
		}
	}
	return v, nil
}

// restoreAt restores the float at path p of v; v changes only when p is
// empty.
func restoreAt(v any, p []any) (any, error) {
	if len(p) == 0 {
		return finiteFromText(v)
	}
	parent, last := v, p[len(p)-1]
	for _, seg := range p[:len(p)-1] {
		var err error
		if parent, err = child(parent, seg); err != nil {
			return nil, err
		}
	}
	switch c := parent.(type) {
	case map[string]any:
		k, ok := last.(string)
		if !ok {
			return nil, fmt.Errorf("a map, not a list, is where %v points", last)
		}
		x, ok := c[k]
		if !ok {
			return nil, fmt.Errorf("no key %q", k)
		}
		f, err := finiteFromText(x)
		if err != nil {
			return nil, err
		}
		c[k] = f
	case []any:
		i, err := index(last, len(c))
		if err != nil {
			return nil, err
		}
		f, err := finiteFromText(c[i])
		if err != nil {
			return nil, err
		}
		c[i] = f
	default:
		return nil, fmt.Errorf("%T has no key or index %v", parent, last)
	}
	return v, nil
}

// child returns the value under seg in v.
func child(v any, seg any) (any, error) {
	switch c := v.(type) {
	case map[string]any:
		k, ok := seg.(string)
		if !ok {
			return nil, fmt.Errorf("a map, not a list, is where %v points", seg)
		}
		x, ok := c[k]
		if !ok {
			return nil, fmt.Errorf("no key %q", k)
		}
		return x, nil
	case []any:
		i, err := index(seg, len(c))
		if err != nil {
			return nil, err
		}
		return c[i], nil
	}
	return nil, fmt.Errorf("%T has no key or index %v", v, seg)
}

// index reads a segment as an index into a list of n.
func index(seg any, n int) (int, error) {
	i := -1
	switch x := seg.(type) {
	case int:
		i = x
	case float64:
		if x >= 0 && x == math.Trunc(x) && x < float64(n) {
			i = int(x)
		}
	case json.Number:
		if j, err := strconv.Atoi(string(x)); err == nil {
			i = j
		}
	case string:
		return 0, fmt.Errorf("a list, not a map, is where %q points", x)
	default:
		return 0, fmt.Errorf("a segment of type %T", seg)
	}
	if i < 0 || i >= n {
		return 0, fmt.Errorf("no index %v in a list of %d", seg, n)
	}
	return i, nil
}

// finiteFromText is the float FiniteText wrote as v.
func finiteFromText(v any) (float64, error) {
	switch v {
	case "NaN":
		return math.NaN(), nil
	case "+Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	}
	return 0, fmt.Errorf(`%s there, not "NaN", "+Inf" or "-Inf"`, describe(v))
}

func describe(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("a %T", v)
}

// pathText writes a path for an error: its JSON, which names every
// segment exactly.
func pathText(p []any) string {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Sprint(p)
	}
	return string(b)
}

// comparePaths orders paths segment by segment, a prefix first.
func comparePaths(a, b []any) int {
	for i := range min(len(a), len(b)) {
		if c := compareSegments(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

func compareSegments(a, b any) int {
	ai, aIsIndex := a.(int)
	bi, bIsIndex := b.(int)
	switch {
	case aIsIndex && bIsIndex:
		return cmp.Compare(ai, bi)
	case aIsIndex:
		return -1
	case bIsIndex:
		return 1
	}
	as, _ := a.(string)
	bs, _ := b.(string)
	return cmp.Compare(as, bs)
}
