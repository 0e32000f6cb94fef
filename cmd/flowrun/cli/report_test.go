package cli

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/pkg/exec"

	_ "github.com/flowrun/flowrun/pkg/steps/all"
)

// TestReportInStateDir: apply refuses a --report inside the state
// directory before the run — exit 2, no step run, no run recorded, the
// state's files as they were — however the path is spelled: "..", a
// symlink to the directory or to a file in it, the directory a symlink,
// FLOWRUN_STATE_DIR, --state-dir, a resume, a directory not made yet.
// The error names the flag, the file, the directory and the fix. A file
// beside the directory, or any file with --no-state, is written.
func TestReportInStateDir(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string          // after apply wf.yaml
		env     string            // FLOWRUN_STATE_DIR
		links   map[string]string // made before the run, in the working directory
		refused string            // the file named, relative to the working directory; "" for written
		state   string            // the state directory named, relative to the working directory
		written string            // for a report allowed: where it must be, and only there
	}{
		{name: "the key", args: []string{"--report", ".flowrun/secret.key"}, refused: ".flowrun/secret.key", state: ".flowrun"},
		{name: "a journal", args: []string{"--report", ".flowrun/runs/ID/journal"}, refused: ".flowrun/runs/ID/journal", state: ".flowrun"},
		{name: "html", args: []string{"--report", ".flowrun/runs/ID/report.html"}, refused: ".flowrun/runs/ID/report.html", state: ".flowrun"},
		{name: "dot-dot", args: []string{"--report", "./x/../.flowrun/runs/ID/run.json"}, refused: ".flowrun/runs/ID/run.json", state: ".flowrun"},
		{name: "a symlink to the directory", args: []string{"--report", "st/secret.key"}, links: map[string]string{"st": ".flowrun"}, refused: ".flowrun/secret.key", state: ".flowrun"},
		{name: "a symlink to the key", args: []string{"--report", "r.json"}, links: map[string]string{"r.json": ".flowrun/secret.key"}, refused: ".flowrun/secret.key", state: ".flowrun"},
		{name: "the directory a symlink", args: []string{"--report", ".flowrun/r.json", "--state-dir", "lst"}, links: map[string]string{"lst": ".flowrun"}, refused: ".flowrun/r.json", state: ".flowrun"},
		{name: "FLOWRUN_STATE_DIR", args: []string{"--report", "x/r.json"}, env: "x", refused: "x/r.json", state: "x"},
		{name: "--state-dir", args: []string{"--report", "x/r.json", "--state-dir", "x/"}, refused: "x/r.json", state: "x"},
		{name: "FLOWRUN_REPORT", args: nil, refused: ".flowrun/runs/ID/report.json", state: ".flowrun"}, // FLOWRUN_REPORT set below
		{name: "a resume", args: []string{"--resume", "--report", ".flowrun/runs/ID/report.json"}, refused: ".flowrun/runs/ID/report.json", state: ".flowrun"},
		{name: "a state directory not made yet", args: []string{"--report", "new/r.json", "--state-dir", "new"}, refused: "new/r.json", state: "new"},
		{name: "the directory itself", args: []string{"--report", ".flowrun"}, refused: ".flowrun", state: ".flowrun"},
		{name: "beside it", args: []string{"--report", ".flowrun-results/r.json"}, written: ".flowrun-results/r.json"},
		{name: "elsewhere with --state-dir", args: []string{"--report", ".flowrun/r.json", "--state-dir", "x"}, written: ".flowrun/r.json"},
		{name: "--no-state", args: []string{"--report", ".flowrun/r.json", "--no-state"}, written: ".flowrun/r.json"},
		// link/.. is x through the symlink, . by the text: the report is
		// written where the check put it, beside the state directory
		// x/.flowrun, never in it.
		{name: "dot-dot after a symlink", args: []string{"--report", "link/../.flowrun/r.json", "--state-dir", "x/.flowrun"}, links: map[string]string{"link": "x/deeper"}, written: ".flowrun/r.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			t.Setenv("FLOWRUN_STATE_DIR", "")
			t.Setenv("FLOWRUN_REPORT", "")
			os.Unsetenv("FLOWRUN_REPORT") // set empty, it is a --report ""
			t.Setenv("FLOWRUN_PROGRESS", "never")
			must(t, os.WriteFile("wf.yaml", []byte("version: 1\nsteps:\n  - id: mark\n    run: touch ran\n  - id: fail\n    needs: [mark]\n    run: exit 1\n"), 0o644))
			for _, d := range []string{"x/deeper", "x/.flowrun", ".flowrun-results"} {
				must(t, os.MkdirAll(d, 0o755))
			}
			// A run recorded before, which a resume picks and whose
			// files the report must not replace.
			if code, _, stderr := apply(t, "wf.yaml"); code != ExitFailed {
				t.Fatalf("first run: exit %d: %s", code, stderr)
			}
			ents, err := os.ReadDir(".flowrun/runs")
			if err != nil || len(ents) != 1 {
				t.Fatalf("first run recorded %d runs: %v", len(ents), err)
			}
			id := ents[0].Name()
			must(t, os.Remove("ran"))
			for name, target := range tt.links {
				must(t, os.Symlink(target, name))
			}
			args := []string{"wf.yaml"}
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "ID", id))
			}
			if tt.name == "FLOWRUN_REPORT" {
				t.Setenv("FLOWRUN_REPORT", ".flowrun/runs/"+id+"/report.json")
			}
			t.Setenv("FLOWRUN_STATE_DIR", tt.env)
			before := snapshot(t, ".flowrun")

			code, _, stderr := apply(t, args...)

			if tt.refused == "" {
				if code != ExitFailed {
					t.Fatalf("exit %d: %s; want the run to run (and its step fail)", code, stderr)
				}
				if _, err := os.Stat(tt.written); err != nil {
					t.Fatalf("the report is not at %s: %v", tt.written, err)
				}
				if _, err := os.Stat("x/.flowrun/r.json"); err == nil {
					t.Errorf("the report was written in the state directory x/.flowrun")
				}
				return
			}
			real, err := filepath.EvalSymlinks(dir)
			must(t, err)
			file := filepath.Join(real, strings.ReplaceAll(tt.refused, "ID", id))
			state := filepath.Join(real, tt.state)
			report := os.Getenv("FLOWRUN_REPORT")
			for i, a := range args {
				if a == "--report" {
					report = args[i+1]
				}
			}
			want := "flowrun: --report " + report + ": " + file + " is inside the state directory " + state +
				", where flowrun records runs (their journal, run.json and report.json, and the key of secret inputs): " +
				"it would overwrite or interleave with them; write it outside "
			if code != ExitInvalid || !strings.HasPrefix(stderr, want) || !strings.HasSuffix(stderr, ", or record runs elsewhere with --state-dir\n") {
				t.Fatalf("exit %d:\n%s\nwant exit %d and:\n%s...", code, stderr, ExitInvalid, want)
			}
			if _, err := os.Stat("ran"); err == nil {
				t.Errorf("a step ran")
			}
			if after := snapshot(t, ".flowrun"); after != before {
				t.Errorf("the state directory changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if tt.state != ".flowrun" {
				if _, err := os.Stat(file); err == nil {
					t.Errorf("%s was written", file)
				}
			}
		})
	}
}

// apply runs flowrun apply with args in the working directory.
func apply(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(append([]string{"apply"}, args...), strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// snapshot lists the files under dir with their contents, so that a
// change to any of them shows.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(path)
		if !d.IsDir() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			b.WriteString(" " + string(data))
		}
		b.WriteString("\n")
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return b.String()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestWriteIndentedIsTheReport: -o json and --report x.json, written from
// report.json's JSON and indented, say what encoding/json says of the
// report: outputs of every kind (JSON text kept as it is, text to escape,
// NaN), a single step's output, the summary and the series.
func TestWriteIndentedIsTheReport(t *testing.T) {
	rep := report(4)
	load := rep.Steps[0]
	load.Results[0].Output = json.RawMessage(`{"a":[1,2.50],"b":"<&>"}`)
	load.Results[1].Output = map[string]any{"t": "é \u2028 \"q\" <b>", "n": math.NaN(), "i": math.Inf(-1), "big": uint64(18446744073709551615)}
	load.Results[2].Status, load.Results[2].Error, load.Results[2].Attempts = exec.Failed, "exit status 5: <stderr>", 2
	rep.Steps[1].Status, rep.Steps[1].Output = exec.Succeeded, []any{1.5, "x", nil}
	var got bytes.Buffer
	if err := writeIndented(&got, rep); err != nil {
		t.Fatal(err)
	}
	want, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	decode := func(b []byte) any {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%v:\n%s", err, b)
		}
		return v
	}
	if diff := cmp.Diff(decode(want), decode(got.Bytes())); diff != "" {
		t.Errorf("written report (-encoding/json +written):\n%s", diff)
	}
	if !strings.HasPrefix(got.String(), "{\n  \"workflow\": \"wf\",\n") || !strings.HasSuffix(got.String(), "}\n") {
		t.Errorf("not indented as before:\n%.200s", got.String())
	}
}
