package exec

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResultsFileInStateDir: a results_file inside the state directory
// is refused by CheckStateDir before the run, and by Run itself, with an
// error naming the step, the file and the directory; however it is
// spelled — "..", a symlink to the directory, the directory a symlink, a
// path from an input or the run's id, a workflow called by uses:. A file
// beside it is not, nor is any file when there is no state directory.
func TestResultsFileInStateDir(t *testing.T) {
	callee := `
version: 1
steps:
  - id: inner
    parallel: {items: [1], results_file: .flowrun/callee.jsonl}
    probe: {}
`
	for _, tt := range []struct {
		name, file string // the main step's results_file
		state      string // the state directory, relative to the workflow's; "" for none
		out        string // inputs.out
		links      map[string]string
		refused    string // the file named, relative to the workflow's directory; "" for allowed
	}{
		{name: "literal", file: ".flowrun/out.jsonl", state: ".flowrun", refused: ".flowrun/out.jsonl"},
		{name: "the directory itself", file: ".flowrun", state: ".flowrun", refused: ".flowrun"},
		{name: "dot-dot", file: "./x/../.flowrun/runs/j", state: ".flowrun", refused: ".flowrun/runs/j"},
		{name: "dot-dot through a symlink", file: "./link/../.flowrun/runs/j", state: ".flowrun", links: map[string]string{"link": "x/deeper"}, refused: ".flowrun/runs/j"},
		{name: "a symlink to it", file: "st/out.jsonl", state: ".flowrun", links: map[string]string{"st": ".flowrun"}, refused: ".flowrun/out.jsonl"},
		{name: "the directory a symlink", file: "real/out.jsonl", state: ".flowrun", links: map[string]string{".flowrun": "real"}, refused: "real/out.jsonl"},
		{name: "from an input", file: "${{ inputs.out }}", out: ".flowrun/runs/out.jsonl", state: ".flowrun", refused: ".flowrun/runs/out.jsonl"},
		{name: "from the run id", file: ".flowrun/runs/${{ run.id }}/journal", state: ".flowrun", refused: ".flowrun/runs/r123/journal"},
		{name: "in a called workflow", file: "out.jsonl", state: ".flowrun", refused: ".flowrun/callee.jsonl"},
		{name: "beside it", file: ".flowrun-results/out.jsonl", state: ".flowrun"},
		{name: "a name starting with dot-dot", file: ".flowrun/../..out.jsonl", state: ".flowrun"},
		{name: "no state directory", file: ".flowrun/out.jsonl"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			main := `
version: 1
inputs:
  out: {type: string, default: ""}
steps:
  - id: fan
    parallel: {items: [1, 2], results_file: "` + tt.file + `"}
    probe: {}
`
			if tt.name == "in a called workflow" {
				main += `  - id: call
    uses: ./callee.yaml
`
			}
			wf := loadFiles(t, map[string]string{"main.yaml": main, "callee.yaml": callee})
			must(t, os.MkdirAll(filepath.Join(wf.Dir, "x", "deeper"), 0o755))
			must(t, os.MkdirAll(filepath.Join(wf.Dir, "real", "runs"), 0o755))
			for name, target := range tt.links {
				must(t, os.Symlink(target, filepath.Join(wf.Dir, name)))
			}
			if tt.links[".flowrun"] == "" {
				must(t, os.MkdirAll(filepath.Join(wf.Dir, ".flowrun", "runs"), 0o755))
			}
			opts := Options{Inputs: map[string]any{"out": tt.out}, RunID: "r123"}
			if tt.state != "" {
				opts.StateDir = filepath.Join(wf.Dir, tt.state)
			}
			err := CheckStateDir(wf, opts)
			rep := Run(context.Background(), wf, opts)
			if tt.refused == "" {
				if err != nil || rep.Status != Succeeded {
					t.Fatalf("CheckStateDir: %v; run %s: %s; want both to accept", err, rep.Status, rep.Error)
				}
				return
			}
			real, _ := filepath.EvalSymlinks(wf.Dir)
			state := filepath.Join(real, ".flowrun")
			if tt.links[".flowrun"] != "" {
				state = filepath.Join(real, "real")
			}
			want := `results_file of step "` + map[bool]string{true: "inner", false: "fan"}[tt.name == "in a called workflow"] + `" ` +
				filepath.Join(real, tt.refused) + " is inside the state directory " + state + ", where flowrun records runs"
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "or record runs elsewhere with --state-dir") {
				t.Errorf("CheckStateDir: %v\nwant it to say: %s", err, want)
			}
			if rep.Status != Failed || !strings.Contains(rep.Error, want) {
				t.Errorf("run %s: %s\nwant it to fail saying: %s", rep.Status, rep.Error, want)
			}
			if _, err := os.Stat(filepath.Join(wf.Dir, tt.refused)); err == nil && tt.name != "the directory itself" {
				t.Errorf("%s was written", tt.refused)
			}
		})
	}
}

// TestResultsFileInStateDirPerCall: a path that a workflow called by an
// item computes from its inputs is known only when the call starts: Run
// refuses it then, and the call fails without writing the file.
func TestResultsFileInStateDirPerCall(t *testing.T) {
	wf := loadFiles(t, map[string]string{"main.yaml": `
version: 1
steps:
  - id: fan
    parallel: {items: [a, b], on_error: continue}
    uses: ./callee.yaml
    with: {out: ".flowrun/${{ item }}.jsonl"}
`, "callee.yaml": `
version: 1
inputs:
  out: {type: string}
steps:
  - id: inner
    parallel: {items: [1], results_file: "${{ inputs.out }}"}
    probe: {}
`})
	state := filepath.Join(wf.Dir, ".flowrun")
	must(t, os.Mkdir(state, 0o700))
	opts := Options{StateDir: state}
	if err := CheckStateDir(wf, opts); err != nil {
		t.Fatalf("CheckStateDir: %v; the path is not known before the call", err)
	}
	rep := Run(context.Background(), wf, opts)
	fan := rep.Step("fan")
	if rep.Status != Failed || fan.Summary.Failed != 2 {
		t.Fatalf("run %s, %d items failed; want both calls refused", rep.Status, fan.Summary.Failed)
	}
	for _, r := range fan.Results {
		if !strings.Contains(r.Error, `results_file of step "inner"`) || !strings.Contains(r.Error, "is inside the state directory") {
			t.Errorf("item %d: %s", r.Index, r.Error)
		}
	}
	if ents, _ := os.ReadDir(state); len(ents) != 0 {
		t.Errorf("the state directory holds %d entries; want none written", len(ents))
	}
}

// TestResultsFilePathCleaned: the results file written is the one the
// checks name: an absolute path's ".." is resolved as a relative one's
// is, by its text, never through a symlink before it, which would lead
// into the state directory behind the checks' back.
func TestResultsFilePathCleaned(t *testing.T) {
	wf := loadFiles(t, map[string]string{"main.yaml": `
version: 1
inputs:
  out: {type: string}
steps:
  - id: fan
    parallel: {items: [1], results_file: "${{ inputs.out }}"}
    probe: {}
`})
	state := filepath.Join(wf.Dir, "x", ".flowrun")
	must(t, os.MkdirAll(filepath.Join(wf.Dir, "x", "deeper"), 0o755))
	must(t, os.Mkdir(state, 0o700))
	must(t, os.Symlink("x/deeper", filepath.Join(wf.Dir, "link")))
	// Through the symlink, link/.. is x: x/.flowrun/j, in the state
	// directory. By its text it is .flowrun/j, beside the workflow.
	out := filepath.Join(wf.Dir, "link") + "/../.flowrun/j"
	opts := Options{Inputs: map[string]any{"out": out}, StateDir: state}
	if err := CheckStateDir(wf, opts); err != nil {
		t.Fatal(err)
	}
	if rep := Run(context.Background(), wf, opts); rep.Status != Succeeded {
		t.Fatalf("run %s: %s", rep.Status, rep.Error)
	}
	if _, err := os.Stat(filepath.Join(wf.Dir, ".flowrun", "j")); err != nil {
		t.Errorf("the results file is not where the checks put it: %v", err)
	}
	if _, err := os.Stat(filepath.Join(state, "j")); err == nil {
		t.Errorf("the results file was written in the state directory")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCheckStateDirFile: a file other than a results_file (a report) is
// refused inside the state directory, however spelled, and the error
// names it resolved, the directory and the fix; a file beside it, or any
// file when runs are not recorded, is not.
func TestCheckStateDirFile(t *testing.T) {
	dir := t.TempDir()
	real, err := filepath.EvalSymlinks(dir)
	must(t, err)
	state := filepath.Join(dir, ".flowrun")
	must(t, os.MkdirAll(filepath.Join(state, "runs"), 0o700))
	must(t, os.WriteFile(filepath.Join(state, "secret.key"), []byte("k"), 0o600))
	must(t, os.MkdirAll(filepath.Join(dir, "x"), 0o755))
	must(t, os.Symlink(".flowrun", filepath.Join(dir, "st")))
	must(t, os.Symlink(".flowrun/secret.key", filepath.Join(dir, "key.json")))
	for _, tt := range []struct {
		path, state, refused string // refused relative to dir; "" for allowed
	}{
		{path: ".flowrun/secret.key", state: ".flowrun", refused: ".flowrun/secret.key"},
		{path: "x/../.flowrun/runs/j", state: ".flowrun", refused: ".flowrun/runs/j"},
		{path: "st/r.json", state: ".flowrun", refused: ".flowrun/r.json"},
		{path: "key.json", state: ".flowrun", refused: ".flowrun/secret.key"},
		{path: "r.json", state: "st", refused: ""},
		{path: ".flowrun/r.json", state: "st", refused: ".flowrun/r.json"},
		{path: ".flowrun-r.json", state: ".flowrun"},
		{path: ".flowrun/r.json", state: ""},
	} {
		t.Run(tt.path+" in "+tt.state, func(t *testing.T) {
			st := ""
			if tt.state != "" {
				st = filepath.Join(dir, tt.state)
			}
			err := CheckStateDirFile(st, filepath.Join(dir, tt.path))
			if tt.refused == "" {
				if err != nil {
					t.Fatalf("%v; want it allowed", err)
				}
				return
			}
			want := filepath.Join(real, tt.refused) + " is inside the state directory " + filepath.Join(real, ".flowrun") + ", where flowrun records runs"
			if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "write it outside "+st+"/, or record runs elsewhere with --state-dir") {
				t.Fatalf("%v\nwant it to start: %s", err, want)
			}
		})
	}
}
