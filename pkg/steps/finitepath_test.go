package steps

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestNonFinitePaths(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	type withFloat struct{ F float64 }
	tests := []struct {
		name string
		in   any
		want [][]any
	}{
		{name: "finite", in: map[string]any{"a": []any{1.5, "NaN"}}},
		{name: "alone", in: nan, want: [][]any{{}}},
		{name: "nested", in: map[string]any{"body": map[string]any{"x": nan, "s": "NaN"}, "list": []any{1, 2, 3, -inf}},
			want: [][]any{{"body", "x"}, {"list", 3}}},
		{name: "keys that look like paths", in: map[string]any{"a.b": inf, "[0]": nan, "a": map[string]any{"b": 1}},
			want: [][]any{{"[0]"}, {"a.b"}}},
		{name: "typed list", in: map[string]any{"r": []float64{1, inf, nan}}, want: [][]any{{"r", 1}, {"r", 2}}},
		{name: "typed map", in: []any{map[string]float32{"r": float32(math.Inf(-1))}}, want: [][]any{{0, "r"}}},
		{name: "struct is text", in: map[string]any{"s": withFloat{inf}, "f": inf}, want: [][]any{{"f"}}},
		{name: "index before key", in: map[string]any{"b": inf, "a": []any{nan}}, want: [][]any{{"a", 0}, {"b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, NonFinitePaths(tt.in)); diff != "" {
				t.Errorf("NonFinitePaths (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRestoreNonFiniteThroughJSON: a value written as NonFinite writes
// it, with its paths beside it, comes back from JSON with its floats
// where they were floats and its strings where they were strings.
func TestRestoreNonFiniteThroughJSON(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	type withFloat struct{ F float64 }
	tests := []struct {
		name string
		in   any
		want any
	}{
		{name: "alone", in: -inf, want: -inf},
		{name: "string alone", in: "NaN", want: "NaN"},
		{name: "nested beside strings",
			in:   map[string]any{"body": map[string]any{"x": nan, "s": "NaN", "t": "+Inf"}, "list": []any{"-Inf", inf, []any{-inf}}},
			want: map[string]any{"body": map[string]any{"x": nan, "s": "NaN", "t": "+Inf"}, "list": []any{"-Inf", inf, []any{-inf}}}},
		{name: "keys that look like paths",
			in:   map[string]any{"a.b": inf, "a": map[string]any{"b": "+Inf"}, "[0]": nan, "x": []any{"NaN"}},
			want: map[string]any{"a.b": inf, "a": map[string]any{"b": "+Inf"}, "[0]": nan, "x": []any{"NaN"}}},
		{name: "typed", in: map[string]any{"r": []float64{1.5, nan}}, want: map[string]any{"r": []any{1.5, nan}}},
		{name: "struct stays text", in: []any{withFloat{inf}, nan}, want: []any{"{+Inf}", nan}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, err := json.Marshal(NonFinite(tt.in, "", nil))
			if err != nil {
				t.Fatal(err)
			}
			paths, err := json.Marshal(NonFinitePaths(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			for _, useNumber := range []bool{false, true} {
				var v any
				var p [][]any
				for src, dst := range map[string]any{string(text): &v, string(paths): &p} {
					dec := json.NewDecoder(bytes.NewReader([]byte(src)))
					if useNumber {
						dec.UseNumber()
					}
					if err := dec.Decode(dst); err != nil {
						t.Fatal(err)
					}
				}
				if useNumber {
					v = normalizeNumbers(v) // as flowrun reads JSON
				}
				got, err := RestoreNonFinite(v, p)
				if err != nil {
					t.Fatalf("RestoreNonFinite(%s, %s): %v", text, paths, err)
				}
				if diff := cmp.Diff(tt.want, got, cmpopts.EquateNaNs()); diff != "" {
					t.Errorf("%s with paths %s, UseNumber %v (-want +got):\n%s", text, paths, useNumber, diff)
				}
			}
		})
	}
}

// TestRestoreNonFiniteRefuses: paths that do not lead to the text of a
// non-finite float are errors, not guesses.
func TestRestoreNonFiniteRefuses(t *testing.T) {
	value := func() any {
		return map[string]any{"s": "nan", "n": 1.5, "l": []any{"NaN"}, "m": map[string]any{"k": "+Inf"}}
	}
	tests := []struct {
		name string
		path []any
		want string
	}{
		{name: "other text", path: []any{"s"}, want: `"nan" there`},
		{name: "a number", path: []any{"n"}, want: "a float64 there"},
		{name: "missing key", path: []any{"x"}, want: `no key "x"`},
		{name: "index out of range", path: []any{"l", 1}, want: "no index 1"},
		{name: "negative index", path: []any{"l", -1}, want: "no index -1"},
		{name: "fraction", path: []any{"l", 0.5}, want: "no index 0.5"},
		{name: "key into a list", path: []any{"l", "0"}, want: "a list, not a map"},
		{name: "index into a map", path: []any{"m", 0}, want: "a map, not a list"},
		{name: "into a string", path: []any{"s", "x"}, want: "string has no key"},
		{name: "odd segment", path: []any{"l", true}, want: "a segment of type bool"},
		{name: "the map itself", path: []any{}, want: "a map[string]interface {} there"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RestoreNonFinite(value(), [][]any{tt.path})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("RestoreNonFinite at %v: %v; want an error with %q", tt.path, err, tt.want)
			}
		})
	}
}
