package exec

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// runInDir writes src as a workflow in a new directory and runs it with the
// default registry (real shell and http steps).
func runInDir(t *testing.T, src string) (*Report, string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "wf.yaml")
	if err := os.WriteFile(file, []byte(strings.TrimLeft(src, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	wf, ds := spec.Load(file, spec.Options{Registry: steps.Default})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	return Run(context.Background(), wf, Options{}), dir
}

// TestAliasCannotCarryDataIntoAScript: an anchor in a text field and its
// alias in a script field (either order) are two fields, each with its own
// rule: the item reaches the script as a variable, never as code.
func TestAliasCannotCarryDataIntoAScript(t *testing.T) {
	const item = `$(touch pwned)`
	for name, cfg := range map[string]string{
		"dir then script":  `{dir: &d "${{ item }}", script: *d}`,
		"script then dir":  `{script: &d "${{ item }}", dir: *d}`,
		"alias of a block": `{dir: &d "${{ item }}", script: *d, kill_grace: 1s}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			// The item names a directory that exists, so that dir resolves
			// and the script is what runs.
			if err := os.Mkdir(filepath.Join(dir, item), 0o755); err != nil {
				t.Fatal(err)
			}
			src := "version: 1\nsteps:\n  - id: s\n    parallel: {items: ['" + item + "']}\n    run: " + cfg + "\n"
			file := filepath.Join(dir, "wf.yaml")
			if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			wf, ds := spec.Load(file, spec.Options{Registry: steps.Default})
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			rep := Run(context.Background(), wf, Options{})
			for _, where := range []string{dir, filepath.Join(dir, item)} {
				if _, err := os.Stat(filepath.Join(where, "pwned")); err == nil {
					t.Fatalf("the item ran as shell code: %s/pwned exists", where)
				}
			}
			// The script is ${FLOWRUN_EXPR_0}: the shell expands the value
			// and, finding no command "$(touch", exits 127; the directory
			// was the item's.
			s := rep.Step("s")
			if len(s.Results) != 1 || !strings.Contains(s.Results[0].Error, "exit status 127") {
				t.Errorf("got results %+v; want the item to fail with exit status 127 (no command named %q)", s.Results, "$(touch")
			}
		})
	}
}

// TestExpectJSONTakesDataAsValues: values interpolated into expect.json
// are variables of the check, never its code, with or without an alias.
func TestExpectJSONTakesDataAsValues(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"items": 3, "name": "demo"})
	}))
	defer srv.Close()
	tests := []struct {
		name, item, expect string
		ok                 bool
	}{
		{"number matches", `3`, `body.items == ${{ item }}`, true},
		{"number differs", `4`, `body.items == ${{ item }}`, false},
		{"hostile or", `"999 || true"`, `body.items == ${{ item }}`, false},
		{"hostile in string", `'x" or "a" == "a'`, `body.name == "${{ item }}"`, false},
		{"string matches", `demo`, `body.name == "${{ item }}"`, true},
		{"string joins", `em`, `body.name == "d${{ item }}o"`, true},
		{"list value", `[3]`, `body.items in ${{ item }}`, true},
		{"alias of a header", `"999 || true"`, `&j "body.items == ${{ item }}"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := ""
			if strings.HasPrefix(tt.expect, "&j") {
				header = "\n      headers: {X-Check: *j}"
			}
			src := "version: 1\nsteps:\n  - id: s\n    parallel: {items: [" + tt.item + "]}\n    http:\n      url: " + srv.URL +
				header + "\n      expect: {json: " + quoteExpect(tt.expect) + "}\n"
			if header != "" {
				src = "version: 1\nsteps:\n  - id: s\n    parallel: {items: [" + tt.item + "]}\n    http:\n      url: " + srv.URL +
					"\n      expect: {json: " + tt.expect + "}" + header + "\n"
			}
			rep, _ := runInDir(t, src)
			s := rep.Step("s")
			if len(s.Results) != 1 {
				t.Fatalf("got %d results; want 1", len(s.Results))
			}
			got := s.Results[0]
			if ok := got.Status == Succeeded; ok != tt.ok {
				t.Errorf("item %s with expect.json %s: got %s (%s); want succeeded=%v", tt.item, tt.expect, got.Status, got.Error, tt.ok)
			}
		})
	}
}

func quoteExpect(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestExecArgvKeepsEachElement: each argv element is one argument, spaces,
// quotes and shell syntax included, whether written or interpolated.
func TestExecArgvKeepsEachElement(t *testing.T) {
	src := `
version: 1
steps:
  - id: s
    parallel: {items: ["it's \"quoted\" $(touch pwned) *"]}
    exec: [printf, "%s|", "${{ item }}", "a  b", "x ${{ item }} y", "'single'"]
`
	rep, dir := runInDir(t, src)
	s := rep.Step("s")
	if s.Status != Succeeded {
		t.Fatalf("step %s: %+v", s.Status, s.Results)
	}
	want := `it's "quoted" $(touch pwned) *|a  b|x it's "quoted" $(touch pwned) * y|'single'|`
	if got := s.Results[0].Output; got != want {
		t.Errorf("got output %q; want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("an argv element ran as shell code")
	}
}

// TestEveryInterpretedFieldIsCovered lists every field of every built-in
// step type that an interpreter parses (steps.Script, steps.Expression) or
// that decides which program runs (steps.Literal), and fails when one has
// no hostile-input test above: a new such field must get one.
func TestEveryInterpretedFieldIsCovered(t *testing.T) {
	covered := map[string]string{
		"run.script":       "TestAliasCannotCarryDataIntoAScript",
		"http.expect.json": "TestExpectJSONTakesDataAsValues",
		"run.shell":        "TestLiteralFieldsRefuseExpressions",
	}
	interpreted := map[reflect.Type]bool{
		reflect.TypeOf(steps.Script("")):   true,
		reflect.TypeOf(steps.Expression{}): true,
		reflect.TypeOf(steps.Literal("")):  true,
	}
	var found []string
	var walk func(prefix string, t reflect.Type, depth int)
	walk = func(prefix string, t reflect.Type, depth int) {
		for _, f := range steps.ConfigFields(t) {
			ft := f.Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map {
				ft = ft.Elem()
			}
			switch {
			case interpreted[ft]:
				found = append(found, prefix+f.Name)
			case ft.Kind() == reflect.Struct && depth < 5:
				walk(prefix+f.Name+".", ft, depth+1)
			}
		}
	}
	for _, info := range steps.Default.List() {
		walk(info.Type+".", reflect.TypeOf(info.New()), 0)
	}
	for _, name := range found {
		if covered[name] == "" {
			t.Errorf("%s takes code or picks a program, and no hostile-input test covers it: add one and list it here", name)
		}
	}
	for name := range covered {
		if !slices.Contains(found, name) {
			t.Errorf("%s is listed as covered but is no longer such a field", name)
		}
	}
}

// TestLiteralFieldsRefuseExpressions: the interpreter of a run step is
// written out; an input or an item cannot choose it, directly or through
// an alias.
func TestLiteralFieldsRefuseExpressions(t *testing.T) {
	for name, cfg := range map[string]string{
		"expression":       `{script: echo, shell: "${{ item }}"}`,
		"alias of a value": `{dir: &d "${{ item }}", script: echo, shell: *d}`,
		"inside text":      `{script: echo, shell: "bash ${{ item }}"}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "wf.yaml")
			src := "version: 1\nsteps:\n  - id: s\n    parallel: {items: ['sh -c touch${IFS}pwned']}\n    run: " + cfg + "\n"
			if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, ds := spec.Load(file, spec.Options{Registry: steps.Default})
			if got := ds.Error(); !strings.Contains(got, "run.shell cannot hold an expression") {
				t.Errorf("diagnostics %q; want run.shell cannot hold an expression", got)
			}
		})
	}
}
