package spec_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/pkg/spec"
)

// TestScopeRoundTrip: a scope sent as JSON (to a worker) is the scope
// that was sent.
func TestScopeRoundTrip(t *testing.T) {
	sc := &spec.Scope{
		Inputs: map[string]any{"n": 3, "f": 1.5, "big": 1 << 60, "list": []any{1, "a", nil, true}, "obj": map[string]any{"k": "v"}},
		Env:    map[string]any{"API": "http://127.0.0.1"},
		Steps: map[string]any{"list": map[string]any{
			"status": "succeeded", "output": map[string]any{"namespaces": []any{map[string]any{"name": "a", "items": 2}}},
			"summary": map[string]any{"total": 2, "p50_ms": 0.25},
		}},
		Run: spec.RunInfo{ID: "abc", Status: "running"},
	}
	b, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	var got spec.Scope
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sc.Vars(), got.Vars()); diff != "" {
		t.Errorf("decoded scope (-sent +got):\n%s", diff)
	}
}

func TestItemVarsLeavesTheScope(t *testing.T) {
	vars := (&spec.Scope{}).Vars()
	iv := spec.ItemVars(vars, "ns", 2, "x")
	if iv["ns"] != "x" || iv["index"] != 2 || iv["inputs"] == nil {
		t.Errorf("got %v", iv)
	}
	if _, ok := vars["ns"]; ok {
		t.Error("ItemVars modified the step's variables")
	}
}
