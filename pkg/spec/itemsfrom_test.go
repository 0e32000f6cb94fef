package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A literal items_from file is checked when the workflow loads: missing
// is an error for a step that depends on none (nothing can write it
// first), a warning for one that does; a name given by an expression is
// checked when the block starts.
func TestItemsFromFileChecks(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ids.txt"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, steps string
		severity    Severity // of the one diagnostic; -1 for none
		summary     string
	}{
		{"exists", "  - id: fan\n    parallel: {items_from: ids.txt}\n    run: echo\n", -1, ""},
		{"missing", "  - id: fan\n    parallel: {items_from: nope.txt}\n    run: echo\n", Error,
			"items_from file " + filepath.Join(dir, "nope.txt") + " does not exist"},
		{"missing after a step", "  - id: export\n    run: echo\n  - id: fan\n    needs: [export]\n    parallel: {items_from: nope.txt}\n    run: echo\n", Warning,
			"items_from file " + filepath.Join(dir, "nope.txt") + " does not exist (yet)"},
		{"expression", "  - id: fan\n    parallel: {items_from: \"${{ inputs.file }}\"}\n    run: echo\n", -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "version: 1\ninputs: {file: {type: string, default: nope.txt}}\nsteps:\n" + tt.steps
			w, ds := Parse(filepath.Join(dir, "wf.yaml"), []byte(src), Options{Registry: testRegistry()})
			if tt.severity < 0 {
				if len(ds) > 0 {
					t.Fatalf("diagnostics: %v; want none", ds)
				}
				return
			}
			if len(ds) != 1 || ds[0].Severity != tt.severity || ds[0].Summary != tt.summary {
				t.Fatalf("diagnostics: %v; want one %v: %s", ds, tt.severity, tt.summary)
			}
			if tt.severity == Warning && w.Step("fan").Parallel.ItemsFrom == nil {
				t.Error("a warning dropped the block's items_from")
			}
		})
	}
}

// Resolve evaluates the file name, resolves it against the workflow's
// directory and guesses the format from the evaluated name.
func TestItemsFromResolve(t *testing.T) {
	dir := t.TempDir()
	w, ds := Parse(filepath.Join(dir, "wf.yaml"), []byte(`version: 1
inputs: {file: {type: string}}
steps:
  - id: fan
    parallel: {items_from: "data/${{ inputs.file }}"}
    run: echo
`), Options{Registry: testRegistry()})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	src := w.Step("fan").Parallel.ItemsFrom
	if src.Expr == nil || src.Path != "" || src.Format != "" {
		t.Fatalf("items_from %+v; want an unevaluated expression", src)
	}
	got, err := src.Resolve(map[string]any{"inputs": map[string]any{"file": "rows.csv"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "data", "rows.csv"); got.Path != want || got.Format != FormatCSV || got.File != "data/rows.csv" {
		t.Errorf("resolved to %q (%s) from %q; want %q (csv)", got.Path, got.Format, got.File, want)
	}
	if src.Path != "" || src.Expr == nil {
		t.Error("Resolve changed the compiled step")
	}
	if _, err := src.Open(); err == nil || !strings.Contains(err.Error(), "not evaluated") {
		t.Errorf("Open before Resolve: %v; want an error", err)
	}
}
