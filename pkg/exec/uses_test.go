package exec

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// square is a workflow called through uses: in the tests below.
const square = `
version: 1
inputs:
  n: {type: integer, required: true}
  fail: {type: boolean, default: false}
  block: {type: boolean, default: false}
steps:
  - id: sq
    probe: {out: "${{ inputs.n * inputs.n }}", fail: "${{ inputs.fail }}", block: "${{ inputs.block }}"}
outputs:
  square: ${{ steps.sq.output }}
finally:
  - id: cleanup
    probe: {record: "cleanup ${{ inputs.n }}"}
`

// loadFiles writes the files into a new directory and loads main.yaml.
func loadFiles(t *testing.T, files map[string]string) *spec.Workflow {
	t.Helper()
	return loadFilesWith(t, registry(), files)
}

func loadFilesWith(t *testing.T, reg *steps.Registry, files map[string]string) *spec.Workflow {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.TrimLeft(src, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wf, ds := spec.Load(filepath.Join(dir, "main.yaml"), spec.Options{Registry: reg})
	if ds.HasErrors() {
		t.Fatalf("workflow does not load:\n%v", ds)
	}
	return wf
}

func TestUsesInParallelBlock(t *testing.T) {
	wf := loadFiles(t, map[string]string{"square.yaml": square, "main.yaml": `
version: 1
steps:
  - id: fan
    parallel: {items: [3, 1, 2], as: x, workers: 3}
    uses: ./square.yaml
    with: {n: "${{ x }}"}
outputs:
  squares: ${{ map(steps.fan.outputs, .square) }}
`})
	resetProbes()
	rep := Run(context.Background(), wf, Options{})
	if rep.Status != Succeeded {
		t.Fatalf("run %s: %s", rep.Status, rep.Error)
	}
	if diff := cmp.Diff([]any{9, 1, 4}, rep.Outputs["squares"]); diff != "" {
		t.Errorf("squares (-want +got):\n%s", diff)
	}
	started := slices.Clone(probes.started)
	slices.Sort(started)
	if want := []string{"cleanup 1", "cleanup 2", "cleanup 3"}; !slices.Equal(started, want) {
		t.Errorf("finally steps of the callee: %q; want %q, one sub-run per item", started, want)
	}
}

func TestUsesFailureNamesTheChain(t *testing.T) {
	wf := loadFiles(t, map[string]string{"square.yaml": square, "main.yaml": `
version: 1
steps:
  - id: call
    uses: ./square.yaml
    with: {n: 4, fail: true}
`})
	resetProbes()
	rep := Run(context.Background(), wf, Options{})
	c := rep.Step("call")
	for _, want := range []string{`step "call": `, `main.yaml -> `, `square.yaml: `, `square.yaml:8:5: step "sq": probe failed`} {
		if c.Status != Failed || !strings.Contains(c.Error, want) {
			t.Errorf("call: %s %q; want failed with an error containing %q", c.Status, c.Error, want)
		}
	}
	if !slices.Contains(probes.started, "cleanup 4") {
		t.Errorf("the callee's finally steps did not run after its failure")
	}
}

func TestUsesBadInputAtRunTime(t *testing.T) {
	wf := loadFiles(t, map[string]string{"square.yaml": square, "main.yaml": `
version: 1
steps:
  - id: call
    retry: 3
    uses: ./square.yaml
    with: {n: "${{ 'many' }}"}
`})
	rep := Run(context.Background(), wf, Options{})
	c := rep.Step("call")
	if c.Status != Failed || c.Attempts != 1 || !strings.Contains(c.Error, `with: input "n": want an integer, got the string "many"`) {
		t.Errorf("call: %s after %d attempts, %q; want one failed attempt naming the input", c.Status, c.Attempts, c.Error)
	}
}

// blocker is a step type that says it started, then waits for its
// context to be done.
type blocker struct{}

var blockersStarted = make(chan struct{}, 16)

func (blocker) Run(ctx context.Context, _ *steps.Input) (any, error) {
	blockersStarted <- struct{}{}
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestUsesCancellationReachesTheCallee(t *testing.T) {
	reg := registry()
	reg.Register(steps.Info{Type: "blocker", New: func() steps.Step { return blocker{} }})
	wf := loadFilesWith(t, reg, map[string]string{"wait.yaml": `
version: 1
inputs:
  n: {type: integer}
steps:
  - id: wait
    blocker: {}
finally:
  - id: cleanup
    probe: {record: "cleanup ${{ inputs.n }}"}
`, "main.yaml": `
version: 1
steps:
  - id: fan
    parallel: {items: [1, 2], workers: 2}
    uses: ./wait.yaml
    with: {n: "${{ item }}"}
`})
	resetProbes()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Cancel once both sub-runs are inside their step.
		<-blockersStarted
		<-blockersStarted
		cancel()
	}()
	rep := Run(ctx, wf, Options{})
	fan := rep.Step("fan")
	if fan.Status != Cancelled || fan.Summary.Cancelled != 2 {
		t.Errorf("fan: %s, summary %+v; want both items cancelled", fan.Status, fan.Summary)
	}
	started := slices.Clone(probes.started)
	slices.Sort(started)
	if want := []string{"cleanup 1", "cleanup 2"}; !slices.Equal(started, want) {
		t.Errorf("finally steps of the callee: %q; want %q after the cancel", started, want)
	}
}

// getenv is a step type whose output is a variable of its environment,
// the last entry winning as it does for a child process.
type getenv struct {
	Name string `yaml:"name"`
}

func (g *getenv) Run(_ context.Context, in *steps.Input) (any, error) {
	out := "(unset)"
	for _, kv := range in.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && k == g.Name {
			out = v
		}
	}
	return out, nil
}

func TestUsesPassesTheStepEnvironment(t *testing.T) {
	reg := registry()
	reg.Register(steps.Info{Type: "getenv", New: func() steps.Step { return new(getenv) }})
	wf := loadFilesWith(t, reg, map[string]string{"env.yaml": `
version: 1
env:
  OWN: callee
steps:
  - id: a
    getenv: {name: FROM_STEP}
  - id: b
    getenv: {name: OWN}
outputs:
  a: ${{ steps.a.output }}
  b: ${{ steps.b.output }}
`, "main.yaml": `
version: 1
env:
  OWN: caller
steps:
  - id: call
    env: {FROM_STEP: "set by the uses step"}
    uses: ./env.yaml
`})
	rep := Run(context.Background(), wf, Options{Environ: []string{}})
	want := map[string]any{"a": "set by the uses step", "b": "callee"}
	if diff := cmp.Diff(want, rep.Step("call").Output); diff != "" {
		t.Errorf("callee outputs (-want +got):\n%s", diff)
	}
}

// TestUsesFinallyBounded checks that a called workflow's finally steps
// stop with the calling item: at its timeout, and at the first interrupt
// (ctx cancelled, Kill not closed), rather than run on until the second.
func TestUsesFinallyBounded(t *testing.T) {
	for _, end := range []string{"timeout", "interrupt"} {
		t.Run(end, func(t *testing.T) {
			timeout := ""
			if end == "timeout" {
				timeout = "timeout: 100ms"
			}
			wf := loadFiles(t, map[string]string{"slow.yaml": `
version: 1
steps:
  - id: quick
    probe: {}
finally:
  - id: cleanup
    probe: {record: cleanup, block: true}
`, "main.yaml": `
version: 1
steps:
  - id: call
    uses: ./slow.yaml
    ` + timeout + `
`})
			resetProbes()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			kill := make(chan struct{})
			done := make(chan *Report, 1)
			go func() { done <- Run(ctx, wf, Options{Kill: kill}) }()
			if end == "interrupt" {
				for probes.running.Load() == 0 || len(probesStarted()) == 0 {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}
			var rep *Report
			select {
			case rep = <-done:
			case <-time.After(10 * time.Second):
				close(kill)
				<-done
				t.Fatalf("the callee's finally step still ran 10s after the item's %s", end)
			}
			if st := rep.Step("call").Status; st != Failed && st != Cancelled {
				t.Errorf("call: %s; want it failed (timeout) or cancelled", st)
			}
			if got := probesStarted(); !slices.Equal(got, []string{"cleanup"}) {
				t.Errorf("started %q; want the callee's finally step to have started", got)
			}
		})
	}
}

func probesStarted() []string {
	probes.mu.Lock()
	defer probes.mu.Unlock()
	return slices.Clone(probes.started)
}

// TestWithKeepsTypes: a value passed through with: keeps its type; a
// string is never read as YAML on the way into the callee, as a
// command-line value would be.
func TestWithKeepsTypes(t *testing.T) {
	callee := `
version: 1
inputs:
  obj: {type: object, default: {}}
  n: {type: integer, default: 0}
  s: {type: string, default: ""}
steps:
  - id: echo
    probe: {out: "${{ [inputs.obj, inputs.n, inputs.s] }}"}
outputs:
  got: ${{ steps.echo.output }}
`
	for _, tt := range []struct{ name, with, err string }{
		{"a string into an object", `{obj: "${{ item }}"}`, `input "obj": want an object, got the string "{admin: true}"`},
		{"a padded number into an integer", `{n: "${{ item }}"}`, `input "n": want an integer, got the string " 7 "`},
		{"strings stay strings", `{s: "${{ item }}"}`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wf := loadFiles(t, map[string]string{"callee.yaml": callee, "main.yaml": `
version: 1
steps:
  - id: call
    parallel: {items: ["{admin: true}", " 7 "], on_error: continue}
    uses: ./callee.yaml
    with: ` + tt.with + `
`})
			rep := Run(context.Background(), wf, Options{})
			call := rep.Step("call")
			if tt.err == "" {
				if call.Status != Succeeded {
					t.Fatalf("call %s: %s", call.Status, call.Error)
				}
				for i, want := range []string{"{admin: true}", " 7 "} {
					got := call.Results[i].Output.(map[string]any)["got"].([]any)[2]
					if got != want {
						t.Errorf("item %d reached the callee as %#v; want %#v", i, got, want)
					}
				}
				return
			}
			var errs []string
			for _, r := range call.Results {
				errs = append(errs, r.Error)
			}
			if !strings.Contains(strings.Join(errs, "\n"), tt.err) {
				t.Errorf("item errors:\n%s\nwant one with %q", strings.Join(errs, "\n"), tt.err)
			}
		})
	}
}
