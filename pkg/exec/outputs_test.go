package exec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/pkg/spec"
)

// Every output that can be evaluated is, whatever the run's status, and
// every one that cannot is listed with its error, in declared order.
func TestOutputsOnAnyRun(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: copy
    parallel: {items: [1, 2, 3], on_error: continue}
    probe: {fail: "${{ item == 2 }}", out: "${{ item * 10 }}"}
outputs:
  ok: ${{ steps.copy.summary.succeeded }}
  rows: ${{ sum(steps.copy.outputs) }}
  each: ${{ steps.copy.outputs }}
  bad: ${{ steps.copy.outputs[0] + "x" }}
`, Options{})
	if rep.Status != Failed {
		t.Fatalf("run %s; want failed", rep.Status)
	}
	if diff := cmp.Diff(map[string]any{"ok": 2, "each": []any{10, nil, 30}}, rep.Outputs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	var names []string
	for _, e := range rep.OutputErrors {
		names = append(names, e.Name)
		if !strings.Contains(e.Error, "test.yaml:") {
			t.Errorf("output %s: error %q has no position", e.Name, e.Error)
		}
	}
	if diff := cmp.Diff([]string{"rows", "bad"}, names); diff != "" {
		t.Errorf("output errors (-want +got):\n%s", diff)
	}

	// A run that succeeded fails on its outputs, naming every one.
	rep = runYAML(t, `
version: 1
steps:
  - {id: a, probe: {out: 1}}
outputs:
  first: ${{ steps.a.output + "x" }}
  fine: ${{ steps.a.output }}
  second: ${{ steps.a.output.missing + 1 }}
`, Options{})
	if rep.Status != Failed || len(rep.OutputErrors) != 2 || rep.Outputs["fine"] != 1 {
		t.Fatalf("run %s, errors %v, outputs %v; want failed with 2 output errors and fine: 1", rep.Status, rep.OutputErrors, rep.Outputs)
	}
	for _, name := range []string{`output "first"`, `output "second"`, "2 outputs could not be evaluated"} {
		if !strings.Contains(rep.Error, name) {
			t.Errorf("run error %q does not name %s", rep.Error, name)
		}
	}
}

// A block that did not run every item is marked incomplete; its outputs
// are null where an item did not succeed, or null as a whole when it did
// not read all its items from a file.
func TestIncompleteBlockOutputs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ids.txt"), []byte("1\n2\n3\n4\n5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, block string
		incomplete  bool
		outputs     any
	}{
		{"known count", `{items: [1, 2, 3, 4], workers: 1}`, true, []any{1, nil, nil, nil}},
		{"items from a file", `{items_from: ids.txt, workers: 1}`, true, nil},
		{"all ran", `{items: [1, 2, 3], on_error: continue}`, false, []any{1, nil, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wf, ds := spec.Parse(filepath.Join(dir, "wf.yaml"), []byte(`
version: 1
steps:
  - id: fan
    parallel: `+tc.block+`
    probe: {fail: "${{ int(item) == 2 }}", out: "${{ int(item) }}"}
finally:
  - id: show
    probe: {out: "${{ steps.fan.outputs }}"}
`), spec.Options{Registry: registry()})
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			resetProbes()
			rep := Run(t.Context(), wf, Options{})
			if fan := rep.Step("fan"); fan.Status != Failed || fan.Incomplete != tc.incomplete {
				t.Errorf("fan %s, incomplete %v; want failed, %v", fan.Status, fan.Incomplete, tc.incomplete)
			}
			if diff := cmp.Diff(tc.outputs, rep.Step("show").Output); diff != "" {
				t.Errorf("steps.fan.outputs (-want +got):\n%s", diff)
			}
			b, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(string(b), `"incomplete":true`); got != tc.incomplete {
				t.Errorf("report says incomplete: %v; want %v:\n%s", got, tc.incomplete, b)
			}
		})
	}
}

// The report's JSON keeps the outputs in declared order.
func TestReportOutputsInDeclaredOrder(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - {id: a, probe: {out: 1}}
outputs:
  zeta: ${{ steps.a.output }}
  alpha: ${{ steps.a.output + 1 }}
  mid: ${{ steps.a.output + 2 }}
`, Options{})
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"outputs":{"zeta":1,"alpha":2,"mid":3}`; !strings.Contains(string(b), want) {
		t.Errorf("report JSON lacks %s:\n%s", want, b)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("the report is not valid JSON: %v", err)
	}
}
