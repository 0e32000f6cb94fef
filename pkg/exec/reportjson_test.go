package exec

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/pkg/mask"
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
	if err := rep.WriteJSON(&buf, nil); err != nil {
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

	// Masked as it is written: the same value as Masked gives.
	m := mask.New("s3cret-value")
	rep.Steps[1].Results[1].Error = "token s3cret-value leaked"
	rep.Steps[1].Results[0].Output = map[string]any{"k": "s3cret-value"}
	rep.Steps[0].Output = "x s3cret-value"
	rep.Inputs["s"] = "s3cret-value"
	buf.Reset()
	if err := rep.WriteJSON(&buf, m); err != nil {
		t.Fatal(err)
	}
	if want, err = json.Marshal(rep.Masked(m)); err != nil {
		t.Fatal(err)
	}
	got, exp = nil, nil
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(want, &exp)
	if diff := cmp.Diff(exp, got); diff != "" || bytes.Contains(buf.Bytes(), []byte("s3cret")) {
		t.Errorf("WriteJSON masked (-Masked +WriteJSON):\n%s\n%s", diff, buf.Bytes())
	}

	// Values JSON cannot hold are written as json.Marshal writes them:
	// strings (steps.NonFinite).
	rep.Steps[1].Results[0].Output = map[string]any{"ratio": math.NaN(), "max": []any{math.Inf(1)}}
	rep.Steps[0].Output = math.Inf(-1)
	buf.Reset()
	if err := rep.WriteJSON(&buf, nil); err != nil {
		t.Fatalf("WriteJSON with NaN and infinities: %v", err)
	}
	if want, err = json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
	got, exp = nil, nil
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, buf.Bytes())
	}
	_ = json.Unmarshal(want, &exp)
	if diff := cmp.Diff(exp, got); diff != "" {
		t.Errorf("non-finite values (-json.Marshal +WriteJSON):\n%s", diff)
	}
}

// TestAppendResultFields: every field of ItemResult, set, reaches the
// hand-written encoding as json.Marshal encodes it; a field added to
// ItemResult and forgotten there fails here.
func TestAppendResultFields(t *testing.T) {
	outputs := []any{nil, "s\x00<>\xff", 1 << 60, true, 2.5, math.NaN(), []any{1, "a", math.Inf(1)}, map[string]any{"k": nil}, json.Number("12345678901234567890")}
	for _, out := range outputs {
		var res ItemResult
		v := reflect.ValueOf(&res).Elem()
		for i := range v.NumField() {
			f := v.Field(i)
			if !v.Type().Field(i).IsExported() {
				continue // outJSON: TestEncodedOutputOnce
			}
			switch f.Kind() {
			case reflect.Int:
				f.SetInt(int64(7 + i))
			case reflect.String:
				f.SetString("text " + v.Type().Field(i).Name + " \u2028")
			case reflect.Bool:
				f.SetBool(true)
			case reflect.Float64:
				f.SetFloat(1.25e-7 * float64(i+1))
			case reflect.Interface:
				if out != nil {
					f.Set(reflect.ValueOf(out))
				}
			default:
				t.Fatalf("ItemResult.%s is a %s: teach appendResult and this test", v.Type().Field(i).Name, f.Kind())
			}
		}
		want, err := json.Marshal(&res)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendResult(nil, &res)
		if err != nil {
			t.Fatal(err)
		}
		var a, b map[string]any
		if err := json.Unmarshal(want, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got, &b); err != nil {
			t.Fatalf("appendResult wrote invalid JSON: %v\n%s", err, got)
		}
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("output %v (-json.Marshal +appendResult):\n%s", out, diff)
		}
	}
}
