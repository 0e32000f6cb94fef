package exec

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestWriteJSON: the streamed report is the value json.Marshal gives.
func TestWriteJSON(t *testing.T) {
	rep := &Report{
		Workflow: "w<&>", File: "wf.yaml", RunID: "abc", Status: Failed, Error: "boom \u2028 \xff",
		StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), DurationMS: 1.5,
		Inputs:  map[string]any{"n": 1 << 60, "s": `"steps":null`},
		Outputs: map[string]any{"o": []any{1, "two", map[string]any{"steps": nil}}},
		Steps: []*StepReport{
			{ID: "single", Type: "run", Status: Succeeded, Output: "x", Attempts: 2, Restored: 1},
			{ID: "fan", Type: "run", Status: Failed, Summary: &Summary{Total: 2, Succeeded: 1, Failed: 1}, Restored: 1, Results: []*ItemResult{
				{Index: 0, Key: "a", Status: Succeeded, Output: map[string]any{"k": "<v>"}, Attempts: 1, Restored: true, DurationMS: 0.25},
				{Index: 1, Key: "b\n", Status: Failed, Error: "e", Attempts: 3, OffsetMS: 1e-7, DurationMS: 1e22, LogTail: "tail"},
			}},
			{ID: "empty", Type: "run", Status: Skipped, Summary: &Summary{}, Results: []*ItemResult{}},
		},
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var got, exp any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("WriteJSON wrote invalid JSON: %v\n%s", err, buf.Bytes())
	}
	if err := json.Unmarshal(want, &exp); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(exp, got); diff != "" {
		t.Errorf("WriteJSON (-json.Marshal +WriteJSON):\n%s", diff)
	}

	rep.Steps[1].Results[0].Output = math.NaN()
	if err := rep.WriteJSON(&bytes.Buffer{}); err == nil {
		t.Error("WriteJSON of a NaN output succeeded; want the error json.Marshal gives")
	}
}
