package spec_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/pkg/spec"
)

// TestPlanAndGraph renders the plan, the Mermaid graph and the DOT graph
// of each workflow in testdata/plan and of the examples, against goldens
// in testdata/plan (go test ./pkg/spec -update rewrites them).
func TestPlanAndGraph(t *testing.T) {
	files, _ := filepath.Glob("testdata/plan/*.yaml")
	files = append(files, "../../examples/batch.yaml", "../../examples/hello.yaml")
	for _, path := range files {
		w, ds := spec.Load(path, spec.Options{})
		if ds.HasErrors() {
			t.Fatalf("%s: %v", path, ds)
		}
		base := filepath.Join("testdata/plan", strings.TrimSuffix(filepath.Base(path), ".yaml"))
		plan := w.Plan()
		for _, out := range []struct {
			ext    string
			render func(*bytes.Buffer) error
		}{
			{".plan.golden", func(b *bytes.Buffer) error { plan.Format(b); return nil }},
			{".mmd.golden", func(b *bytes.Buffer) error { return plan.Graph(b, spec.GraphMermaid) }},
			{".dot.golden", func(b *bytes.Buffer) error { return plan.Graph(b, spec.GraphDOT) }},
		} {
			t.Run(filepath.Base(base)+out.ext, func(t *testing.T) {
				var b bytes.Buffer
				if err := out.render(&b); err != nil {
					t.Fatal(err)
				}
				golden := base + out.ext
				if *update {
					if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./pkg/spec -update)", err)
				}
				if diff := cmp.Diff(string(want), b.String()); diff != "" {
					t.Errorf("%s (-want +got):\n%s", golden, diff)
				}
			})
		}
	}
}

func TestPlanLevels(t *testing.T) {
	w, ds := spec.Load("testdata/plan/diamond.yaml", spec.Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	p := w.Plan()
	var got [][]string
	for _, l := range p.Levels {
		var ids []string
		for _, s := range l {
			ids = append(ids, s.ID)
		}
		got = append(got, ids)
	}
	want := [][]string{{"list", "squares", "literal"}, {"copy"}, {"verify"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("levels (-want +got):\n%s", diff)
	}
	squares := p.Levels[0][1].Parallel
	if squares == nil || squares.Items == nil || *squares.Items != 10 {
		t.Errorf("squares fan-out = %+v; want 10 items (a constant range)", squares)
	}
	if copyBlock := p.Levels[1][0].Parallel; copyBlock.Items != nil || copyBlock.ItemsExpr == "" || copyBlock.Workers == nil || *copyBlock.Workers != 8 {
		t.Errorf("copy = %+v; want an unknown fan-out given by its expression, and 8 workers", copyBlock)
	}
	if err := p.Graph(&bytes.Buffer{}, "svg"); err == nil {
		t.Error("Graph(svg) succeeded; want an error")
	}
}

// TestPlanJSONShape checks that each figure is a number when it is known
// and otherwise the expression or file that decides it, never a string
// standing for a number nor -1 (issue 13).
func TestPlanJSONShape(t *testing.T) {
	dir := t.TempDir()
	wf := filepath.Join(dir, "wf.yaml")
	if err := os.WriteFile(filepath.Join(dir, "ids.txt"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wf, []byte(`version: 1
name: shapes
inputs:
  n: {type: integer, default: 3, description: how many}
  region: {type: string, required: true}
  note: {type: string}
steps:
  - id: lit
    parallel: {items: [a, b], workers: 2}
    log: x
  - id: expr
    parallel: {items: "${{ range(0, inputs.n, 2) }}", workers: "${{ inputs.n }}"}
    log: x
  - id: file
    parallel: {items_from: {file: ids.txt, format: lines}}
    log: x
`), 0o644); err != nil {
		t.Fatal(err)
	}
	w, ds := spec.Load(wf, spec.Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	b, err := json.Marshal(w.Plan())
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Inputs []map[string]any
		Levels [][]struct {
			ID       string
			Parallel map[string]any
		}
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	wantInputs := []map[string]any{
		{"name": "n", "type": "integer", "required": false, "default": 3.0, "has_default": true, "description": "how many"},
		{"name": "region", "type": "string", "required": true, "has_default": false},
		{"name": "note", "type": "string", "required": false, "has_default": false},
	}
	if diff := cmp.Diff(wantInputs, got.Inputs); diff != "" {
		t.Errorf("inputs (-want +got):\n%s", diff)
	}
	want := map[string]map[string]any{
		"lit":  {"items": 2.0, "workers": 2.0, "on_error": "cancel"},
		"expr": {"items_expr": "${{ range(0, inputs.n, 2) }}", "workers_expr": "${{ inputs.n }}", "on_error": "cancel"},
		"file": {"items_from": map[string]any{"file": "ids.txt", "format": "lines"}, "on_error": "cancel"},
	}
	for _, s := range got.Levels[0] {
		if diff := cmp.Diff(want[s.ID], s.Parallel); diff != "" {
			t.Errorf("step %s parallel (-want +got):\n%s", s.ID, diff)
		}
	}
	var text bytes.Buffer
	w.Plan().Format(&text)
	for _, line := range []string{
		"plan for shapes: 3 steps in 1 level\n",
		"  n  integer, default 3\n      how many\n",
		"  region  string, required\n",
		"  note  string, optional\n",
		"parallel  2 items, workers 2",
		"parallel  known when it runs: ${{ range(0, inputs.n, 2) }}, workers ${{ inputs.n }}",
		"parallel  known when it runs: items_from ids.txt (lines), workers default",
	} {
		if !strings.Contains(text.String(), line) {
			t.Errorf("plan text lacks %q:\n%s", line, text.String())
		}
	}
}

// TestPlanShowsStatusFunctions checks that plan names the status
// functions of an if: and says when such a step runs.
func TestPlanShowsStatusFunctions(t *testing.T) {
	w, ds := spec.Load("testdata/plan/status_functions.yaml", spec.Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	p := w.Plan()
	got := map[string][]string{}
	for _, l := range p.Levels {
		for _, s := range l {
			got[s.ID] = s.StatusFunctions
		}
	}
	for _, s := range p.Finally {
		got[s.ID] = s.StatusFunctions
	}
	want := map[string][]string{"copy": nil, "report": {"failure()"}, "notify": {"always()"}, "publish": {"success()"}, "alert": {"failure()"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status functions (-want +got):\n%s", diff)
	}
}

// TestGraphLabelsCarryNoControlCharacters: whatever a workflow's name,
// if: or uses: hold — an escape sequence, a bidirectional override, a
// newline — a Mermaid or DOT graph carries no raw control character: the
// graph is a file that is rendered, printed and pasted, terminal or not.
func TestGraphLabelsCarryNoControlCharacters(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"wf.yaml": "version: 1\nname: \"W\\e]0;pwned\\aX\\u202e\"\nsteps:\n" +
			"  - id: a\n    if: \"${{ \\\"\\e[2J\\\" != \\\"\\u202e\\\" }}\"\n    run: echo\n" +
			"  - id: b\n    if: |-\n      ${{ 1 ==\n      1 }}\n    uses: \"./c\\u202e.yaml\"\n",
		"c\u202e.yaml": "version: 1\nsteps:\n  - id: x\n    run: echo\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w, ds := spec.Load(filepath.Join(dir, "wf.yaml"), spec.Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	for _, format := range []string{spec.GraphMermaid, spec.GraphDOT} {
		var b bytes.Buffer
		if err := w.Plan().Graph(&b, format); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for i, r := range out {
			if r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r < 0xa0 || r == '\u202e' {
				t.Errorf("%s: raw %U at byte %d:\n%s", format, r, i, out)
				break
			}
		}
		for _, want := range []string{"U+001B", "U+202E"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: %s not written out:\n%s", format, want, out)
			}
		}
	}
}

// remote: false shows in the plan's JSON as local, and only there.
func TestPlanLocal(t *testing.T) {
	w, ds := spec.Load("testdata/plan/remote_false.yaml", spec.Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	p := w.Plan()
	if heavy, note := p.Levels[0][0].Parallel, p.Levels[1][0].Parallel; heavy.Local || !note.Local {
		t.Errorf("local: heavy %v, note %v; want false, true", heavy.Local, note.Local)
	}
}
