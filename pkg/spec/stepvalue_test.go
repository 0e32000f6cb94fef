package spec

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/expr-lang/expr/types"
	"github.com/google/go-cmp/cmp"
)

// TestStepValueShapeIsOne: the maps expressions see, the JSON of the
// report and the types the checker uses have the same keys.
func TestStepValueShapeIsOne(t *testing.T) {
	keys := func(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }
	jsonKeys := func(v any) []string {
		b, _ := json.Marshal(v)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return keys(m)
	}
	typeKeys := func(m types.Map) []string { return slices.Sorted(maps.Keys(m)) }

	r := &ResultValue{}
	if diff := cmp.Diff(jsonKeys(r), keys(r.Map())); diff != "" {
		t.Errorf("result: json (-) and map (+) keys differ:\n%s", diff)
	}
	if diff := cmp.Diff(typeKeys(resultType), keys(r.Map())); diff != "" {
		t.Errorf("result: type (-) and map (+) keys differ:\n%s", diff)
	}
	s := &Summary{Limits: []LimitSummary{{Keys: []KeyPeak{{}}}}}
	if diff := cmp.Diff(jsonKeys(s), keys(s.Map())); diff != "" {
		t.Errorf("summary: json (-) and map (+) keys differ:\n%s", diff)
	}
	if diff := cmp.Diff(typeKeys(stepValueType["summary"].(types.Map)), keys(s.Map())); diff != "" {
		t.Errorf("summary: type (-) and map (+) keys differ:\n%s", diff)
	}
	limit := s.limitsValue()[0].(map[string]any)
	if diff := cmp.Diff(jsonKeys(s.Limits[0]), keys(limit)); diff != "" {
		t.Errorf("summary.limits: json (-) and map (+) keys differ:\n%s", diff)
	}
	if diff := cmp.Diff(jsonKeys(s.Limits[0].Keys[0]), keys(limit["keys"].([]any)[0].(map[string]any))); diff != "" {
		t.Errorf("summary.limits.keys: json (-) and map (+) keys differ:\n%s", diff)
	}
	v := &StepValue{Summary: s, Results: []any{r.Map()}, Outputs: []any{nil}}
	if diff := cmp.Diff(typeKeys(stepValueType), keys(v.Map())); diff != "" {
		t.Errorf("steps.<id>: type (-) and map (+) keys differ:\n%s", diff)
	}
}
