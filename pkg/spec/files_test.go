package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileConflicts: a run must not overwrite a file it reads nor write
// one file from two places; where the paths are literal, validate says
// so at the later use, naming the other.
func TestFileConflicts(t *testing.T) {
	callee := `
version: 1
steps:
  - id: inner
    parallel: {items: [1, 2], results_file: callee.jsonl}
    run: echo
`
	tests := []struct {
		name, main string
		want       string // "" for no error
	}{
		{"results_file is the block's items_from", `
version: 1
steps:
  - id: a
    parallel: {items_from: ids.txt, results_file: ids.txt}
    run: echo
`, `main.yaml:4:51: results_file of step "a" ` + "DIR" + `/ids.txt: items_from of step "a" reads it too (main.yaml:4:28)`},
		{"two blocks, one file", `
version: 1
steps:
  - id: a
    parallel: {items: [1], results_file: out.jsonl}
    run: echo
  - id: b
    needs: [a]
    parallel: {items: [1], results_file: ./out.jsonl}
    run: echo
`, `main.yaml:8:42: results_file of step "b" DIR/out.jsonl: results_file of step "a" writes it too (main.yaml:4:42)`},
		{"a callee called by every item", `
version: 1
steps:
  - id: fan
    parallel: {items: [1, 2, 3, 4]}
    uses: ./callee.yaml
`, `callee.yaml:4:45: results_file of step "inner" DIR/callee.jsonl: every item of step "fan" calls ./callee.yaml, and each call would write it`},
		{"a callee called twice", `
version: 1
steps:
  - id: one
    uses: ./callee.yaml
  - id: two
    needs: [one]
    uses: ./callee.yaml
`, `results_file of step "inner" writes it too (callee.yaml:4:45)`},
		{"a callee called once", `
version: 1
steps:
  - id: one
    uses: ./callee.yaml
`, ""},
		{"the workflow file", `
version: 1
steps:
  - id: a
    parallel: {items: [1], results_file: main.yaml}
    run: echo
`, `results_file of step "a" DIR/main.yaml: the workflow file main.yaml reads it too`},
		{"read before written", `
version: 1
steps:
  - id: a
    parallel: {items: [1], results_file: ids.txt}
    run: echo
  - id: b
    parallel: {items_from: ids.txt}
    run: echo
`, `items_from of step "b" reads it (main.yaml:7:28), and step "b" does not wait for step "a"`},
		{"read after written", `
version: 1
steps:
  - id: a
    parallel: {items: [1], results_file: ids.txt}
    run: echo
  - id: b
    needs: [a]
    parallel: {items_from: ids.txt}
    run: echo
  - id: c
    parallel: {items_from: ids.txt}
    run: echo
    needs: [b]
`, ""},
		{"read by a finally step", `
version: 1
steps:
  - id: a
    parallel: {items: [1], results_file: ids.txt}
    run: echo
finally:
  - id: b
    parallel: {items_from: ids.txt}
    run: echo
`, ""},
		{"a path from an input", `
version: 1
inputs:
  out: {type: string, default: x.jsonl}
steps:
  - id: a
    parallel: {items: [1], results_file: "out/${{ inputs.out }}-${{ run.id }}"}
    run: echo
`, ""},
		{"a path from a step", `
version: 1
steps:
  - id: a
    run: echo
  - id: b
    parallel: {items: [1], results_file: "${{ steps.a.output }}"}
    run: echo
`, `main.yaml:6:47: results_file can read inputs and run only, not steps`},
		{"a path from the item", `
version: 1
steps:
  - id: b
    parallel: {items: [1], results_file: "${{ item }}.jsonl"}
    run: echo
`, `main.yaml:4:46: results_file cannot read the item or index`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			real, _ := filepath.EvalSymlinks(dir)
			writeFiles(t, ".", map[string]string{"main.yaml": tt.main, "callee.yaml": callee, "ids.txt": "1\n"})
			_, ds := Load("main.yaml", Options{Registry: testRegistry()})
			got := ds.Error()
			want := strings.ReplaceAll(tt.want, "DIR", real)
			switch {
			case tt.want == "" && ds.HasErrors():
				t.Errorf("unexpected diagnostics:\n%s", got)
			case tt.want != "" && !strings.Contains(got, want):
				t.Errorf("diagnostics:\n%s\nwant one containing:\n%s", got, want)
			}
		})
	}
}

// TestCalleeAloneHasNoConflict: a workflow validated on its own is not
// blamed for how others call it.
func TestCalleeAloneHasNoConflict(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "callee.yaml")
	if err := os.WriteFile(file, []byte("version: 1\nsteps:\n  - id: inner\n    parallel: {items: [1, 2], results_file: c.jsonl}\n    run: echo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ds := Load(file, Options{Registry: testRegistry()}); ds.HasErrors() {
		t.Errorf("unexpected diagnostics:\n%v", ds)
	}
}

func TestCleanPath(t *testing.T) {
	dir := t.TempDir()
	real, _ := filepath.EvalSymlinks(dir)
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "d"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		filepath.Join(dir, "link", "new", "x.jsonl"):    filepath.Join(real, "d", "new", "x.jsonl"),
		filepath.Join(dir, "d", "..", "d", "./x.jsonl"): filepath.Join(real, "d", "x.jsonl"),
	} {
		if got := CleanPath(in); got != want {
			t.Errorf("CleanPath(%s) = %s; want %s", in, got, want)
		}
	}
}
