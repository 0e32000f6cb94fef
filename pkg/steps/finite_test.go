package steps

import (
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNonFinite(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	type withFloat struct{ F float64 }
	tests := []struct {
		name  string
		in    any
		want  any
		paths []string
	}{
		{name: "finite", in: map[string]any{"a": []any{1.5, 2, "x"}}, want: map[string]any{"a": []any{1.5, 2, "x"}}},
		{name: "alone", in: nan, want: "NaN", paths: []string{"v"}},
		{name: "nested", in: map[string]any{"a": []any{1, inf}, "b": -inf},
			want: map[string]any{"a": []any{1, "+Inf"}, "b": "-Inf"}, paths: []string{"v.a[1]", "v.b"}},
		{name: "typed list", in: []float64{1, inf}, want: []any{1.0, "+Inf"}, paths: []string{"v[1]"}},
		{name: "typed map", in: map[string]float64{"r": nan}, want: map[string]any{"r": "NaN"}, paths: []string{"v.r"}},
		{name: "float32", in: float32(math.Inf(-1)), want: "-Inf", paths: []string{"v"}},
		{name: "struct", in: withFloat{inf}, want: "{+Inf}", paths: []string{"v"}},
		{name: "bytes", in: []byte("ab"), want: []byte("ab")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var paths []string
			got := NonFinite(tt.in, "v", func(p string, _ float64) { paths = append(paths, p) })
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("NonFinite (-want +got):\n%s", diff)
			}
			slices.Sort(paths)
			if !slices.Equal(paths, tt.paths) {
				t.Errorf("paths %q; want %q", paths, tt.paths)
			}
			if _, err := json.Marshal(got); err != nil {
				t.Errorf("the result does not encode: %v", err)
			}
		})
	}
}

// TestNonFiniteCopiesOnlyWhatChanges: a value without NaN or ±Inf is
// returned as it is, and one with is copied, never modified, since it
// may be a step's output that expressions still read.
func TestNonFiniteCopiesOnlyWhatChanges(t *testing.T) {
	keep := []any{"big", 1}
	in := map[string]any{"keep": keep, "bad": []any{math.Inf(1)}}
	out := NonFinite(in, "", nil).(map[string]any)
	if _, ok := in["bad"].([]any)[0].(float64); !ok {
		t.Errorf("the input was modified: %v", in)
	}
	if &out["keep"].([]any)[0] != &keep[0] {
		t.Error("a list without non-finite numbers was copied")
	}
	same := map[string]any{"a": 1}
	if got := NonFinite(same, "", nil).(map[string]any); &got != &same && len(got) == 1 {
		got["b"] = 2
		if _, ok := same["b"]; !ok {
			t.Error("a map without non-finite numbers was copied")
		}
	}
}
