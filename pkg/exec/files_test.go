package exec

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowrun/flowrun/pkg/steps"
)

// waitLines is a step type for tests: it waits until the file holds at
// least Lines lines, or fails after ten seconds.
type waitLines struct {
	File  string `yaml:"file"`
	Lines int    `yaml:"lines"`
}

func (w *waitLines) Run(ctx context.Context, in *steps.Input) (any, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(w.File)
		if n := bytes.Count(b, []byte("\n")); n >= w.Lines {
			return n, nil
		}
		if time.Now().After(deadline) {
			return nil, os.ErrDeadlineExceeded
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestResultsFileFlushedWhileItemsRun: the results of finished items
// reach the file while the block's one worker runs a long item — the
// file is flushed on a timer, not when a worker finishes another item.
// Items 0 and 1 finish at once; item 2 waits until both are in the file.
func TestResultsFileFlushedWhileItemsRun(t *testing.T) {
	reg := registry()
	reg.Register(steps.Info{Type: "wait_lines", New: func() steps.Step { return new(waitLines) }})
	out := filepath.Join(t.TempDir(), "out.jsonl")
	rep := Run(context.Background(), loadWith(t, reg, `
version: 1
steps:
  - id: fan
    parallel: {items: [0, 1, 2], workers: 1, results_file: `+out+`}
    wait_lines: {file: `+out+`, lines: "${{ item == 2 ? 2 : 0 }}"}
`), Options{})
	if fan := rep.Step("fan"); fan.Status != Succeeded {
		t.Fatalf("fan %s: %s; the first results never reached the file while item 2 ran", fan.Status, fan.Error)
	}
}

// TestResultsFileWriteFailureFailsTheBlock: a results file that cannot
// be written (a full disk: /dev/full) stops the block at once, and the
// error names the file.
func TestResultsFileWriteFailureFailsTheBlock(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..999 }}", workers: 2, results_file: /dev/full}
    probe: {delay: 1ms}
`, Options{hooks: hooks{flush: time.Millisecond}})
	fan := rep.Step("fan")
	if fan.Status != Failed || rep.Status != Failed {
		t.Fatalf("fan %s, run %s; want both failed", fan.Status, rep.Status)
	}
	if !strings.Contains(fan.Error, `step "fan": results_file /dev/full: no space left on device`) {
		t.Errorf("error %q; want the file and the reason", fan.Error)
	}
	if s := fan.Summary; s.Succeeded+s.Failed > 500 {
		t.Errorf("%d items ran after the results could not be written; want the block stopped", s.Succeeded+s.Failed)
	}
}

// TestResultsFileFromInputs: results_file takes an expression over
// inputs and run, resolved against the workflow's directory; its
// directory is made before the first step.
func TestResultsFileFromInputs(t *testing.T) {
	wf := loadFiles(t, map[string]string{"main.yaml": `
version: 1
inputs:
  out: {type: string}
steps:
  - id: fan
    parallel: {items: [1, 2], results_file: "${{ inputs.out }}/${{ run.id }}.jsonl"}
    probe: {out: "${{ item }}"}
`})
	rep := Run(context.Background(), wf, Options{Inputs: map[string]any{"out": "deep/er"}})
	if rep.Status != Succeeded {
		t.Fatalf("run %s: %s", rep.Status, rep.Error)
	}
	b, err := os.ReadFile(filepath.Join(wf.Dir, "deep", "er", rep.RunID+".jsonl"))
	if err != nil || bytes.Count(b, []byte("\n")) != 2 {
		t.Errorf("results file: %v, %q; want 2 lines", err, b)
	}
}

// TestResultsFileCheckedBeforeTheFirstStep: a results_file that cannot
// be written fails the run before any step runs, naming the path tried.
func TestResultsFileCheckedBeforeTheFirstStep(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plain"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, path, err string }{
		{"under a file", filepath.Join(dir, "plain", "out.jsonl"), "cannot make its directory: not a directory"},
		{"a directory", dir, "is a directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := runYAML(t, `
version: 1
inputs:
  out: {type: string}
steps:
  - id: first
    probe: {record: first}
  - id: fan
    needs: [first]
    parallel: {items: [1, 2], results_file: "${{ inputs.out }}"}
    probe: {}
`, Options{Inputs: map[string]any{"out": tt.path}})
			if rep.Status != Failed || !strings.Contains(rep.Error, `step "fan": results_file `+tt.path+": "+tt.err) {
				t.Errorf("run %s: %q; want failed naming %s: %s", rep.Status, rep.Error, tt.path, tt.err)
			}
			if len(probes.started) != 0 {
				t.Errorf("steps ran: %v; want none", probes.started)
			}
		})
	}
}

// TestResultsFileClaims: a results_file whose path comes from an input
// is checked when its run starts against every file the run uses: the
// same file from two calls of a workflow (a parallel block's items), a
// file the caller reads (its items_from), a report.
func TestResultsFileClaims(t *testing.T) {
	callee := `
version: 1
inputs:
  out: {type: string}
steps:
  - id: inner
    parallel: {items: [1, 2], results_file: "${{ inputs.out }}"}
    probe: {out: "${{ item }}"}
`
	for _, tt := range []struct{ name, main, err string }{
		{"distinct files", `
version: 1
steps:
  - id: fan
    parallel: {items: [a, b, c, d], workers: 4}
    uses: ./callee.yaml
    with: {out: "${{ item }}.jsonl"}
`, ""},
		{"one file from every call", `
version: 1
steps:
  - id: fan
    parallel: {items: [a, b, c, d], workers: 4, on_error: continue}
    uses: ./callee.yaml
    with: {out: same.jsonl}
`, `in another call of step "fan"`},
		{"the caller's items", `
version: 1
steps:
  - id: fan
    parallel: {items_from: ids.txt}
    uses: ./callee.yaml
    with: {out: ids.txt}
`, `items_from of step "fan" reads it too`},
		{"two steps", `
version: 1
steps:
  - id: one
    uses: ./callee.yaml
    with: {out: x.jsonl}
  - id: two
    needs: [one]
    uses: ./callee.yaml
    with: {out: x.jsonl}
`, `results_file of step "inner" writes it too`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wf := loadFiles(t, map[string]string{"main.yaml": tt.main, "callee.yaml": callee, "ids.txt": "a\nb\n"})
			rep := Run(context.Background(), wf, Options{})
			if tt.err == "" {
				if rep.Status != Succeeded {
					t.Fatalf("run %s: %s", rep.Status, rep.Error)
				}
				return
			}
			if rep.Status != Failed || !strings.Contains(rep.Error, tt.err) {
				t.Errorf("run %s: %q; want failed: %s", rep.Status, rep.Error, tt.err)
			}
			if b, _ := os.ReadFile(filepath.Join(wf.Dir, "ids.txt")); string(b) != "a\nb\n" {
				t.Errorf("ids.txt holds %q now; the input was destroyed", b)
			}
		})
	}
}

// TestResultsFileIsNotAReport: a results_file computed when the run
// starts cannot be a file the report is written to.
func TestResultsFileIsNotAReport(t *testing.T) {
	wf := loadFiles(t, map[string]string{"main.yaml": `
version: 1
inputs:
  out: {type: string}
steps:
  - id: fan
    parallel: {items: [1], results_file: "${{ inputs.out }}"}
    probe: {}
`})
	report := filepath.Join(wf.Dir, "r.json")
	rep := Run(context.Background(), wf, Options{Inputs: map[string]any{"out": "r.json"}, ReportFiles: []string{report}})
	if rep.Status != Failed || !strings.Contains(rep.Error, "the --report "+report+" writes it too") {
		t.Errorf("run %s: %q; want failed naming the report", rep.Status, rep.Error)
	}
}

// TestItemsFromClaimed: an items_from computed from inputs is a file the
// run reads: a results_file, literal or computed, must not be it.
func TestItemsFromClaimed(t *testing.T) {
	wf := loadFiles(t, map[string]string{"ids.txt": "a\nb\n", "main.yaml": `
version: 1
inputs:
  in: {type: string}
steps:
  - id: write
    parallel: {items: [1], results_file: ids.txt}
    probe: {}
  - id: read
    parallel: {items_from: "${{ inputs.in }}"}
    probe: {}
`})
	rep := Run(context.Background(), wf, Options{Inputs: map[string]any{"in": "ids.txt"}})
	if rep.Status != Failed || !strings.Contains(rep.Error, `step "read": items_from `) || !strings.Contains(rep.Error, `results_file of step "write" writes it`) {
		t.Errorf("run %s: %q; want failed before the first step, naming both", rep.Status, rep.Error)
	}
	if b, _ := os.ReadFile(filepath.Join(wf.Dir, "ids.txt")); string(b) != "a\nb\n" {
		t.Errorf("ids.txt holds %q now; the input was destroyed", b)
	}
}
