package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles writes name -> content files under dir, trimming the leading
// newline of each.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, src := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(strings.TrimLeft(src, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const checkCallee = `
version: 1
inputs:
  url: {type: string, required: true}
  tries: {type: integer, default: 3}
  tags: {type: list, default: []}
steps:
  - id: one
    run: echo ${{ inputs.url }}
outputs:
  said: ${{ steps.one.output }}
`

func TestUsesValid(t *testing.T) {
	t.Chdir(t.TempDir())
	writeFiles(t, ".", map[string]string{
		"main.yaml": `
version: 1
steps:
  - id: fan
    parallel: {items: [a, b]}
    uses: ./lib/check.yaml
    with:
      url: http://x/${{ item }}
      tries: 5
      tags: ["${{ item }}", fixed]
  - id: again
    uses: lib/check.yaml
    with: {url: "${{ steps.fan.outputs[0].said }}", tries: "${{ 1 + 1 }}"}
`,
		"lib/check.yaml": checkCallee,
	})
	w, ds := Load("main.yaml", Options{Registry: testRegistry()})
	if ds.HasErrors() {
		t.Fatalf("unexpected diagnostics:\n%v", ds)
	}
	fan, again := w.Step("fan"), w.Step("again")
	if fan.Callee == nil || fan.Callee.File != filepath.Join("lib", "check.yaml") {
		t.Fatalf("fan.Callee = %+v; want lib/check.yaml loaded", fan.Callee)
	}
	if again.Callee != fan.Callee {
		t.Errorf("the same file was loaded twice; want one *Workflow shared by both steps")
	}
	if !fan.With.UsesItem {
		t.Errorf("fan.With.UsesItem = false; want true: with: reads the item")
	}
	if len(again.Deps) != 1 || again.Deps[0].ID != "fan" {
		t.Errorf("again.Deps = %+v; want the dependency on fan inferred from with:", again.Deps)
	}
}

func TestUsesDiagnostics(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"unknown input", map[string]string{"main.yaml": `
version: 1
steps:
  - id: call
    uses: ./check.yaml
    with: {url: x, trys: 2}
`}, []string{`main.yaml:5:20: unknown input "trys" of check.yaml (did you mean "tries"?)`}},
		{"literal type", map[string]string{"main.yaml": `
version: 1
steps:
  - id: call
    uses: ./check.yaml
    with:
      url: x
      tries: many
      tags: {a: 1}
`}, []string{
			`main.yaml:7:14: input "tries" of check.yaml: want an integer, got the string "many"`,
			`main.yaml:8:13: input "tags" of check.yaml: want a list, got an object`,
		}},
		{"text is a string", map[string]string{"main.yaml": `
version: 1
steps:
  - id: call
    uses: ./check.yaml
    with: {url: x, tries: "n${{ 1 }}"}
`}, []string{`main.yaml:5:27: input "tries" of check.yaml wants an integer; text with expressions inside is a string`}},
		{"required", map[string]string{"main.yaml": `
version: 1
steps:
  - id: call
    uses: ./check.yaml
`}, []string{`main.yaml:4:11: input "url" of check.yaml is required (add ` + "`url:`" + ` under with:)`}},
		{"unknown output", map[string]string{"main.yaml": `
version: 1
steps:
  - id: call
    uses: ./check.yaml
    with: {url: x}
  - id: after
    run: echo ${{ steps.call.output.sayd }}
`}, []string{`main.yaml:7:37: unknown field "sayd" (did you mean "said"?)`}},
		{"missing file", map[string]string{"main.yaml": `
version: 1
steps:
  - id: call
    uses: ./nope.yaml
`}, []string{`main.yaml:4:11: cannot use "./nope.yaml": no workflow file at nope.yaml`}},
		{"recursion", map[string]string{
			"main.yaml": `
version: 1
steps:
  - id: call
    uses: ./a.yaml
`,
			"a.yaml": `
version: 1
steps:
  - id: down
    uses: ./sub/b.yaml
`,
			"sub/b.yaml": `
version: 1
steps:
  - id: up
    uses: ../a.yaml
`}, []string{
			`a.yaml:4:11: the workflow sub/b.yaml that step "down" uses has 1 error(s)`,
			`main.yaml:4:11: the workflow a.yaml that step "call" uses has 2 error(s)`,
			`sub/b.yaml:4:11: recursive uses: a.yaml -> sub/b.yaml -> a.yaml`,
		}},
		{"self", map[string]string{"main.yaml": `
version: 1
steps:
  - id: call
    uses: main.yaml
`}, []string{`main.yaml:4:11: recursive uses: main.yaml -> main.yaml`}},
		{"callee invalid", map[string]string{
			"main.yaml": `
version: 1
steps:
  - id: call
    uses: ./bad.yaml
`,
			"bad.yaml": `
version: 1
steps:
  - id: one
    rnu: echo
`}, []string{
			`bad.yaml:4:5: unknown key "rnu" in step`,
			`main.yaml:4:11: the workflow bad.yaml that step "call" uses has 1 error(s)`,
		}},
		{"with without uses", map[string]string{"main.yaml": `
version: 1
steps:
  - id: call
    run: echo
    with: {a: 1}
`}, []string{`main.yaml:5:5: with: without uses:`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			tt.files["check.yaml"] = checkCallee
			writeFiles(t, ".", tt.files)
			_, ds := Load("main.yaml", Options{Registry: testRegistry()})
			got := ds.Error()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("diagnostics:\n%s\nwant one containing:\n%s", got, w)
				}
			}
			if errs, _ := ds.Count(); errs != len(tt.want) && tt.name != "callee invalid" {
				t.Errorf("got %d errors; want %d:\n%s", errs, len(tt.want), got)
			}
		})
	}
}

// TestUsesKnowsCalleesByRealPath: "l/../x.yaml", with l a symlink to
// a/b, is a/x.yaml to the kernel, not x.yaml: each call gets the file its
// path names, and a call back to the caller through a symlink is
// recursion.
func TestUsesKnowsCalleesByRealPath(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"x.yaml":     "version: 1\nsteps:\n  - id: top\n    run: echo top\n",
		"a/x.yaml":   "version: 1\nsteps:\n  - id: deep\n    run: echo deep\n",
		"a/b/README": "",
		"self.yaml":  "version: 1\nsteps:\n  - id: again\n    uses: ./me.yaml\n",
	})
	if err := os.Symlink(filepath.Join(dir, "a", "b"), filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("self.yaml", filepath.Join(dir, "me.yaml")); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"main.yaml": `
version: 1
steps:
  - id: plain
    uses: ./x.yaml
  - id: through
    uses: ` + dir + `/l/../x.yaml
`})
	w, ds := Load(filepath.Join(dir, "main.yaml"), Options{Registry: testRegistry()})
	if ds.HasErrors() {
		t.Fatalf("unexpected diagnostics:\n%v", ds)
	}
	for id, want := range map[string]string{"plain": "top", "through": "deep"} {
		if got := w.Step(id).Callee.Steps[0].ID; got != want {
			t.Errorf("step %s calls a workflow whose step is %q; want %q", id, got, want)
		}
	}
	_, ds = Load(filepath.Join(dir, "self.yaml"), Options{Registry: testRegistry()})
	if got := ds.Error(); !strings.Contains(got, "recursive uses") {
		t.Errorf("self.yaml calling itself through a symlink: %s; want recursive uses", got)
	}
}

// TestDiagnosticsCarryTheParsedSource: a diagnostic carries the text that
// was parsed, the called file's included, so that rendering its line
// never reads a file again by a path that may lead elsewhere by then.
func TestDiagnosticsCarryTheParsedSource(t *testing.T) {
	dir := t.TempDir()
	main := "version: 1\nsteps:\n  - id: a\n    uses: ./lib/c.yaml\n"
	callee := "version: 1\nsteps:\n  - id: x\n    timout: 3s\n    run: echo\n"
	writeFiles(t, dir, map[string]string{"main.yaml": main, "lib/c.yaml": callee})
	_, ds := Load(filepath.Join(dir, "main.yaml"), Options{Registry: testRegistry()})
	if len(ds) == 0 {
		t.Fatal("no diagnostics")
	}
	for _, d := range ds {
		want := main
		if strings.HasSuffix(d.File, "c.yaml") {
			want = callee
		}
		if string(d.Source) != want {
			t.Errorf("%s: source %q; want %q", d.Pos, d.Source, want)
		}
	}
}

// A workflow and its callees compile on another machine from their
// sources alone (a cluster worker's manifest): Callees gathers them, by
// the paths Options.Files looks them up with, nested calls included; a
// callee missing from Files is an error at the uses: step, and the file
// system is not read.
func TestUsesFromFiles(t *testing.T) {
	t.Chdir(t.TempDir())
	writeFiles(t, ".", map[string]string{
		"flows/main.yaml": `
version: 1
steps:
  - id: fan
    parallel: {items: [a, b]}
    uses: ../lib/outer.yaml
    with: {url: "http://x/${{ item }}"}
`,
		"lib/outer.yaml": `
version: 1
inputs: {url: {type: string, required: true}}
steps:
  - id: inner
    uses: ./check.yaml
    with: {url: "${{ inputs.url }}"}
`,
		"lib/check.yaml": checkCallee,
	})
	w, ds := Load("flows/main.yaml", Options{Registry: testRegistry(), AllowPaths: []string{"lib"}})
	if ds.HasErrors() {
		t.Fatalf("unexpected diagnostics:\n%v", ds)
	}
	files := w.Callees()
	want := []string{"lib/outer.yaml", "lib/check.yaml"}
	if len(files) != len(want) {
		t.Fatalf("Callees: %d files, want %v", len(files), want)
	}
	for _, p := range want {
		if _, ok := files[p]; !ok {
			t.Fatalf("Callees lacks %s: %v", p, files)
		}
	}
	// Elsewhere, with no files on disk.
	t.Chdir(t.TempDir())
	w2, ds := Parse("flows/main.yaml", w.Source, Options{Registry: testRegistry(), Files: files})
	if ds.HasErrors() {
		t.Fatalf("from Files:\n%v", ds)
	}
	inner := w2.Step("fan").Callee.Step("inner")
	if inner.Callee == nil || inner.Callee.File != "lib/check.yaml" || inner.Callee.Step("one") == nil {
		t.Fatalf("nested callee not compiled from Files: %+v", inner.Callee)
	}
	delete(files, "lib/check.yaml")
	_, ds = Parse("flows/main.yaml", w.Source, Options{Registry: testRegistry(), Files: files})
	if !ds.HasErrors() || !strings.Contains(ds.Error(), `cannot use "./check.yaml": lib/check.yaml is not in the run's manifest`) {
		t.Fatalf("missing callee: %v", ds)
	}
}
