package cluster

import (
	"context"
	"math"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/spec"
)

// TestCoordinatorNonFiniteOutputs: an item's output that holds NaN and
// ±Inf comes back from a worker as it is locally — floats where they were
// floats, strings where they were strings ("NaN" text included, and keys
// that look like paths) — and the steps that read it see the same values.
func TestCoordinatorNonFiniteOutputs(t *testing.T) {
	wf := loadFiles(t, map[string]string{"main.yaml": `
version: 1
inputs:
  zero: {type: number, default: 0}
steps:
  - id: fan
    parallel: {items: [1, 2], workers: 2}
    set:
      r: "${{ inputs.zero / inputs.zero }}"
      s: "NaN"
      "a.b": "${{ item / inputs.zero }}"
      "[0]": [1, "-Inf", "${{ -item / inputs.zero }}"]
  - id: after
    set:
      ok: "${{ steps.fan.outputs[0].r != steps.fan.outputs[0].r && steps.fan.outputs[1]['a.b'] > 0 && steps.fan.results[0].output['[0]'][2] < 0 }}"
`})
	inputs, err := wf.ResolveInputs(nil)
	if err != nil {
		t.Fatal(err)
	}
	tc := newCluster(t, wf, inputs, 1, nil, CoordinatorOptions{})
	remote := exec.Run(context.Background(), wf, exec.Options{Inputs: inputs, Dispatcher: tc.coord})
	if remote.Status != exec.Succeeded {
		t.Fatalf("remote: %s %s", remote.Status, remote.Error)
	}
	nan, inf := math.NaN(), math.Inf(1)
	for _, res := range remote.Step("fan").Results {
		want := map[string]any{"r": nan, "s": "NaN", "a.b": inf, "[0]": []any{1, "-Inf", -inf}}
		if diff := gocmp.Diff(want, res.Output, cmpopts.EquateNaNs()); diff != "" || res.Worker == "" {
			t.Errorf("item %d from worker %q (-want +got):\n%s", res.Index, res.Worker, diff)
		}
	}
	if ok := remote.Step("after").Output.(map[string]any)["ok"]; ok != true {
		t.Errorf("after: %v; want true", ok)
	}
}

// TestDecodeResultNonFinite: the coordinator restores floats exactly
// where a result's "nonfinite" says; a result without it (a worker of an
// earlier flowrun) keeps its strings; paths that do not match the output
// fail the item rather than guess.
func TestDecodeResultNonFinite(t *testing.T) {
	s := &spec.Step{ID: "fan"}
	in := exec.ItemResult{Index: 3, Key: "k", Status: exec.Succeeded, Output: map[string]any{"x": math.Inf(-1), "s": "-Inf", "l": []float64{math.NaN()}}}
	good, err := encodeResult(&in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"nonfinite":[["l",0],["x"]]}`; !strings.HasSuffix(string(good), want) {
		t.Errorf("encoded %s; want it to end with %s", good, want)
	}
	for _, tc := range []struct {
		name    string
		payload string
		want    any
		err     string
	}{
		{name: "exact", payload: string(good), want: map[string]any{"x": math.Inf(-1), "s": "-Inf", "l": []any{math.NaN()}}},
		{name: "without paths", payload: `{"index":3,"key":"k","status":"succeeded","output":{"x":"-Inf"}}`, want: map[string]any{"x": "-Inf"}},
		{name: "path to a real string", payload: `{"index":3,"key":"k","status":"succeeded","output":{"x":"NaN","y":"nan"},"nonfinite":[["y"]]}`, err: `unreadable result: non-finite number at ["y"]: "nan" there`},
		{name: "missing index", payload: `{"index":3,"key":"k","status":"succeeded","output":["NaN"],"nonfinite":[[1]]}`, err: "no index 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res exec.ItemResult
			decodeResult(s, Result{Index: 3, Key: "k", Worker: "w1", Payload: []byte(tc.payload)}, &res)
			if tc.err != "" {
				if res.Status != exec.Failed || !strings.Contains(res.Error, tc.err) || !strings.Contains(res.Error, `worker "w1"`) {
					t.Errorf("%s %q; want failed with %q", res.Status, res.Error, tc.err)
				}
				return
			}
			if diff := gocmp.Diff(tc.want, res.Output, cmpopts.EquateNaNs()); diff != "" || res.Status != exec.Succeeded {
				t.Errorf("%s %q (-want +got):\n%s", res.Status, res.Error, diff)
			}
		})
	}
}

// TestNonFiniteToWorkers: NaN and ±Inf travel to the workers too — in the
// run's inputs (the manifest), in an earlier step's output the block
// reads (its scope) and in the items themselves — and arrive as the
// floats they were, while a string "NaN" arrives as a string: each item
// sees what it would see locally.
func TestNonFiniteToWorkers(t *testing.T) {
	wf := loadFiles(t, map[string]string{"main.yaml": `
version: 1
inputs:
  f: {type: number, default: 1}
  zero: {type: number, default: 0}
steps:
  - id: stats
    set: {ratio: "${{ inputs.zero / inputs.zero }}", text: "NaN", top: "${{ 1 / inputs.zero }}"}
  - id: fan
    parallel: {items: "${{ [inputs.zero / inputs.zero, 'NaN', -1 / inputs.zero, 9007199254740993] }}", workers: 2}
    set:
      item_nan: "${{ type(item) == 'float' && item != item }}"
      item_text: "${{ item == 'NaN' }}"
      item_inf: "${{ type(item) == 'float' && item < -1e308 }}"
      item_big: "${{ item == 9007199254740993 && item != 9007199254740992 }}"
      input_nan: "${{ inputs.f != inputs.f }}"
      ratio_nan: "${{ steps.stats.output.ratio != steps.stats.output.ratio }}"
      text: "${{ steps.stats.output.text }}"
      top: "${{ steps.stats.output.top > 1e308 }}"
`})
	inputs, err := wf.ResolveInputs(map[string]any{"f": math.NaN()})
	if err != nil {
		t.Fatal(err)
	}
	local := exec.Run(context.Background(), wf, exec.Options{Inputs: inputs})
	tc := newCluster(t, wf, inputs, 1, nil, CoordinatorOptions{})
	remote := exec.Run(context.Background(), wf, exec.Options{Inputs: inputs, Dispatcher: tc.coord})
	if local.Status != exec.Succeeded || remote.Status != exec.Succeeded {
		t.Fatalf("local %s %s; remote %s %s", local.Status, local.Error, remote.Status, remote.Error)
	}
	for i, res := range remote.Step("fan").Results {
		want := local.Step("fan").Results[i].Output
		if diff := gocmp.Diff(want, res.Output); diff != "" || res.Worker == "" {
			t.Errorf("item %d from worker %q (-local +remote):\n%s", i, res.Worker, diff)
		}
	}
	got := remote.Step("fan").Results[0].Output.(map[string]any)
	for _, k := range []string{"item_nan", "input_nan", "ratio_nan", "top"} {
		if got[k] != true {
			t.Errorf("item 0 %s = %v; want true", k, got[k])
		}
	}
	if big := remote.Step("fan").Results[3].Output.(map[string]any)["item_big"]; big != true {
		t.Errorf("item 3, 9007199254740993 beside NaN items: item_big %v; want it exact", big)
	}
	if got["text"] != "NaN" || remote.Step("fan").Results[1].Output.(map[string]any)["item_text"] != true || remote.Step("fan").Results[2].Output.(map[string]any)["item_inf"] != true {
		t.Errorf("strings and -Inf: %v", remote.Step("fan").Results)
	}
}
