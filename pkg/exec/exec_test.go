package exec

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// probe is a step type for tests: it waits, fails or panics on demand and
// records how many probes run at once.
type probe struct {
	Delay  steps.Duration `yaml:"delay"`
	Fail   bool           `yaml:"fail"`
	Panic  bool           `yaml:"panic"`
	Out    any            `yaml:"out"`
	FailN  int            `yaml:"fail_attempts"` // fail the first N attempts
	Block  bool           `yaml:"block"`         // wait for cancellation
	Record string         `yaml:"record"`        // append to the log of starts
}

// told is what a step was told of its output: steps.Input.OutputUnread
// and OutputDiscarded.
type told struct{ unread, discarded bool }

var probes struct {
	running, peak atomic.Int64
	mu            sync.Mutex
	started       []string
	told          map[string]told // by step id
}

func resetProbes() {
	probes.running.Store(0)
	probes.peak.Store(0)
	probes.mu.Lock()
	probes.started = nil
	probes.told = nil
	probes.mu.Unlock()
}

func (p *probe) Run(ctx context.Context, in *steps.Input) (any, error) {
	probes.mu.Lock()
	if probes.told == nil {
		probes.told = make(map[string]told)
	}
	probes.told[in.StepID] = told{in.OutputUnread, in.OutputDiscarded}
	probes.mu.Unlock()
	n := probes.running.Add(1)
	defer probes.running.Add(-1)
	for {
		peak := probes.peak.Load()
		if n <= peak || probes.peak.CompareAndSwap(peak, n) {
			break
		}
	}
	if p.Record != "" {
		probes.mu.Lock()
		probes.started = append(probes.started, p.Record)
		probes.mu.Unlock()
	}
	if p.Panic {
		panic("probe exploded")
	}
	if p.Block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if p.Delay > 0 {
		t := time.NewTimer(p.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if p.Fail || in.Attempt <= p.FailN {
		return nil, errors.New("probe failed")
	}
	return p.Out, nil
}

func registry() *steps.Registry {
	r := steps.NewRegistry()
	r.Register(steps.Info{Type: "probe", New: func() steps.Step { return new(probe) }})
	return r
}

func load(t testing.TB, src string) *spec.Workflow {
	t.Helper()
	return loadWith(t, registry(), src)
}

func loadWith(t testing.TB, reg *steps.Registry, src string) *spec.Workflow {
	t.Helper()
	wf, ds := spec.Parse("test.yaml", []byte(strings.TrimLeft(src, "\n")), spec.Options{Registry: reg})
	if ds.HasErrors() {
		t.Fatalf("workflow does not load:\n%v", ds)
	}
	return wf
}

func runYAML(t testing.TB, src string, opts Options) *Report {
	t.Helper()
	resetProbes()
	return Run(context.Background(), load(t, src), opts)
}

func TestResultsStayInItemOrder(t *testing.T) {
	// Later items finish first: item i sleeps (10-i)*3ms.
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..9 }}", workers: 10, key: "k${{ item }}"}
    probe: {delay: "${{ string((10 - item) * 3) + 'ms' }}", out: "${{ item * 10 }}"}
`, Options{})
	fan := rep.Step("fan")
	if fan.Status != Succeeded {
		t.Fatalf("status %s: %s", fan.Status, fan.Error)
	}
	for i, r := range fan.Results {
		if r.Index != i || r.Output != i*10 || r.Key != "k"+string(rune('0'+i)) {
			t.Errorf("results[%d] = {index %d, key %q, output %v}; want {index %d, key k%d, output %d}", i, r.Index, r.Key, r.Output, i, i, i*10)
		}
	}
	if fan.Summary.Total != 10 || fan.Summary.Succeeded != 10 {
		t.Errorf("summary = %+v; want 10 total, 10 succeeded", fan.Summary)
	}
}

func TestWorkersBoundConcurrency(t *testing.T) {
	for _, workers := range []int{1, 2, 4, 8} {
		rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 1..40 }}", workers: `+itoa(workers)+`}
    probe: {delay: 5ms}
`, Options{})
		if st := rep.Step("fan").Status; st != Succeeded {
			t.Fatalf("workers=%d: status %s", workers, st)
		}
		if got := probes.peak.Load(); got != int64(workers) {
			t.Errorf("workers=%d: peak concurrency %d; want exactly %d", workers, got, workers)
		}
	}
}

func TestDefaultWorkersFromOptions(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 1..20 }}"}
    probe: {delay: 5ms}
`, Options{Workers: 3})
	if got := probes.peak.Load(); got != 3 || rep.Step("fan").Summary.Workers != 3 {
		t.Errorf("peak %d, summary workers %d; want 3 from Options.Workers", got, rep.Step("fan").Summary.Workers)
	}
}

func TestFailFastCancelsTheBlock(t *testing.T) {
	// Item 2 fails at once; the others block until cancelled. With two
	// workers, items 0 and 1 take the workers... so item 2 starts only
	// when one of them ends: use 3 workers, and items after 2 must never start.
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..99 }}", workers: 3}
    probe: {fail: "${{ item == 2 }}", block: "${{ item != 2 }}", record: "${{ string(item) }}"}
  - id: after
    needs: [fan]
    probe: {}
`, Options{})
	fan := rep.Step("fan")
	if fan.Status != Failed || rep.Status != Failed {
		t.Fatalf("fan %s, run %s; want both failed", fan.Status, rep.Status)
	}
	if !strings.Contains(fan.Error, `step "fan" item 2 (key "2"): probe failed`) {
		t.Errorf("error %q does not name the item", fan.Error)
	}
	s := fan.Summary
	if s.Failed != 1 || s.Cancelled != 99 || s.Succeeded != 0 {
		t.Errorf("summary %+v; want 1 failed, 99 cancelled", s)
	}
	if got := len(probes.started); got != 3 {
		t.Errorf("%d items started (%v); want 3: nothing starts after the failure", got, probes.started)
	}
	if a := rep.Step("after"); a.Status != Skipped {
		t.Errorf("after: %s; want skipped", a.Status)
	}
}

func TestOnErrorContinue(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..9 }}", workers: 2, on_error: continue}
    probe: {fail: "${{ item % 3 == 0 }}"}
`, Options{})
	fan := rep.Step("fan")
	got := []Status{}
	for _, r := range fan.Results {
		got = append(got, r.Status)
	}
	want := []Status{Failed, Succeeded, Succeeded, Failed, Succeeded, Succeeded, Failed, Succeeded, Succeeded, Failed}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("item statuses (-want +got):\n%s", diff)
	}
	if fan.Status != Failed || !strings.Contains(fan.Error, "4 of 10 items failed (max_failures 0)") {
		t.Errorf("fan %s %q; want failed with a count", fan.Status, fan.Error)
	}
}

func TestMaxFailuresTolerates(t *testing.T) {
	for _, tt := range []struct {
		max  string
		want Status
	}{{"4", Succeeded}, {"3", Failed}, {`"40%"`, Succeeded}, {`"30%"`, Failed}} {
		rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..9 }}", workers: 1, max_failures: `+tt.max+`}
    probe: {fail: "${{ item % 3 == 0 }}"}
`, Options{})
		if got := rep.Step("fan").Status; got != tt.want {
			t.Errorf("max_failures %s: %s; want %s", tt.max, got, tt.want)
		}
	}
}

func TestInferredDependencyOrdersSteps(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: second
    probe: {out: "${{ steps.first.output + 1 }}", record: second}
  - id: first
    probe: {delay: 20ms, out: 41, record: first}
`, Options{})
	if got := rep.Step("second").Output; got != 42 {
		t.Errorf("second output %v; want 42", got)
	}
	if diff := cmp.Diff([]string{"first", "second"}, probes.started); diff != "" {
		t.Errorf("start order (-want +got):\n%s", diff)
	}
}

func TestIndependentStepsRunConcurrently(t *testing.T) {
	runYAML(t, `
version: 1
steps:
  - id: a
    probe: {delay: 30ms}
  - id: b
    probe: {delay: 30ms}
`, Options{})
	if got := probes.peak.Load(); got != 2 {
		t.Errorf("peak %d; want 2 independent steps at once", got)
	}
}

func TestPanicBecomesItemError(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: [a, b, c], on_error: continue}
    probe: {panic: "${{ item == 'b' }}"}
`, Options{})
	res := rep.Step("fan").Results
	if res[1].Status != Failed || !strings.Contains(res[1].Error, "panic: probe exploded") || !strings.Contains(res[1].Error, "goroutine") {
		t.Errorf("item 1: %s %q; want failed with the panic and its stack", res[1].Status, res[1].Error)
	}
	if res[0].Status != Succeeded || res[2].Status != Succeeded {
		t.Errorf("other items: %s, %s; want succeeded", res[0].Status, res[2].Status)
	}
}

func TestRetryAndTimeout(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: flaky
    retry: {attempts: 3, backoff: 1ms}
    probe: {fail_attempts: 2, out: ok}
  - id: slow
    timeout: 10ms
    retry: {attempts: 2, backoff: 1ms}
    probe: {delay: 5s}
`, Options{})
	if f := rep.Step("flaky"); f.Status != Succeeded || f.Attempts != 3 {
		t.Errorf("flaky: %s after %d attempts; want succeeded after 3", f.Status, f.Attempts)
	}
	if s := rep.Step("slow"); s.Status != Failed || s.Attempts != 2 || !strings.Contains(s.Error, "timed out after 10ms") {
		t.Errorf("slow: %s after %d attempts, %q; want failed after 2 timeouts", s.Status, s.Attempts, s.Error)
	}
}

func TestIfAndFinally(t *testing.T) {
	rep := runYAML(t, `
version: 1
inputs:
  go: {type: boolean, default: false}
steps:
  - id: maybe
    if: inputs.go
    probe: {}
  - id: boom
    needs: [after]
    probe: {fail: true}
  - id: after
    needs: [maybe]
    probe: {}
finally:
  - id: report
    probe: {out: "${{ run.status }}"}
`, Options{Inputs: map[string]any{"go": false}})
	if m := rep.Step("maybe"); m.Status != Skipped || m.Reason != "if: inputs.go was false" {
		t.Errorf("maybe: %s %q; want skipped with the reason", m.Status, m.Reason)
	}
	if a := rep.Step("after"); a.Status != Skipped || a.Reason != `dependency "maybe" was skipped` {
		t.Errorf("after: %s %q; want skipped because its dependency was", a.Status, a.Reason)
	}
	if f := rep.Step("report"); f.Status != Succeeded || f.Output != "succeeded" {
		t.Errorf("finally: %s output %v; want it to run and see run.status succeeded", f.Status, f.Output)
	}
	rep = runYAML(t, `
version: 1
steps:
  - id: boom
    probe: {fail: true}
finally:
  - id: report
    probe: {out: "${{ run.status + ' ' + steps.boom.status }}"}
`, Options{})
	if f := rep.Step("report"); f.Status != Succeeded || f.Output != "failed failed" {
		t.Errorf("finally: %s output %v; want it to run and see run.status and the failed step", f.Status, f.Output)
	}
	if rep.Status != Failed || !strings.Contains(rep.Error, "probe failed") {
		t.Errorf("run %s %q; want failed with the step's error", rep.Status, rep.Error)
	}
}

func TestInterruptCancelsAndRunsFinally(t *testing.T) {
	wf := load(t, `
version: 1
steps:
  - id: wait
    parallel: {items: [1, 2, 3, 4], workers: 2}
    probe: {block: true}
finally:
  - id: cleanup
    probe: {out: "${{ run.status }}"}
`)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	rep := Run(ctx, wf, Options{})
	w := rep.Step("wait")
	if rep.Status != Cancelled || w.Status != Cancelled || w.Summary.Cancelled != 4 || w.Summary.Failed != 0 {
		t.Errorf("run %s, step %s, summary %+v; want everything cancelled, nothing failed", rep.Status, w.Status, w.Summary)
	}
	if c := rep.Step("cleanup"); c.Status != Succeeded || c.Output != "cancelled" {
		t.Errorf("cleanup: %s %v; want it to run after the interrupt", c.Status, c.Output)
	}
}

func TestOutputsAndResultsInExpressions(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: [3, 1, 2], as: n}
    probe: {out: "${{ n * n }}"}
  - id: sum
    probe: {out: "${{ sum(steps.fan.outputs) }}"}
outputs:
  total: ${{ steps.sum.output }}
  ok: ${{ steps.fan.summary.succeeded }}
  first: ${{ steps.fan.results[0].output }}
`, Options{})
	want := map[string]any{"total": 14, "ok": 3, "first": 9}
	if diff := cmp.Diff(want, rep.Outputs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
