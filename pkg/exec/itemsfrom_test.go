package exec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// items_from takes an expression over inputs and run: the file is named
// when the block starts, its format guessed from the evaluated name,
// errors show the path tried, and the path policy applies to it.
func TestItemsFromExpression(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "flows")
	for name, content := range map[string]string{
		"flows/ids.txt":       "a\nb\n",
		"flows/data/rows.csv": "id\n7\n8\n",
		"flows/data/rows.txt": "x,y\n1,2\n",
		"outside.txt":         "secret-line\n",
	} {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src := `
version: 1
inputs:
  file: {type: string, default: ids.txt}
  dir: {type: string, default: data}
  opts: {type: object, default: {}}
steps:
  - id: plain
    parallel: {items_from: "${{ inputs.file }}", workers: 1}
    probe: {out: "${{ item }}"}
  - id: mapped
    parallel: {items_from: {file: "${{ inputs.dir }}/rows.txt", format: csv}, workers: 1}
    probe: {out: "${{ item }}"}
`
	outputs := func(rep *Report, id string) []any {
		var out []any
		for _, r := range rep.Step(id).Results {
			out = append(out, r.Output)
		}
		return out
	}
	for _, tt := range []struct {
		name   string
		inputs map[string]any
		plain  []any
		err    string
	}{
		{name: "defaults", inputs: map[string]any{"file": "ids.txt", "dir": "data"}, plain: []any{"a", "b"}},
		{name: "format by extension", inputs: map[string]any{"file": "data/rows.csv", "dir": "data"},
			plain: []any{map[string]any{"id": "7"}, map[string]any{"id": "8"}}},
		{name: "missing", inputs: map[string]any{"file": "nope.txt", "dir": "data"},
			err: `step "plain": items_from: open ` + filepath.Join(dir, "nope.txt") + ": no such file"},
		{name: "outside", inputs: map[string]any{"file": "../outside.txt", "dir": "data"},
			err: `items_from: "../outside.txt" is not allowed`},
		{name: "empty", inputs: map[string]any{"file": " ", "dir": "data"},
			err: `items_from ${{ inputs.file }} is an empty file name`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := runFile(t, dir, tt.inputs, src)
			plain := rep.Step("plain")
			if tt.err != "" {
				if plain.Status != Failed || !strings.Contains(plain.Error, tt.err) || !strings.Contains(plain.Error, "test.yaml:8:") {
					t.Errorf("plain %s %q; want failed at its position with %q", plain.Status, plain.Error, tt.err)
				}
				if strings.Contains(rep.Step("plain").Error, "secret-line") {
					t.Error("the error quotes the file outside")
				}
				return
			}
			if diff := cmp.Diff(tt.plain, outputs(rep, "plain")); diff != "" {
				t.Errorf("plain (-want +got):\n%s", diff)
			}
			want := []any{map[string]any{"x": "1", "y": "2"}}
			if diff := cmp.Diff(want, outputs(rep, "mapped")); diff != "" {
				t.Errorf("mapped (-want +got):\n%s", diff)
			}
		})
	}
}
