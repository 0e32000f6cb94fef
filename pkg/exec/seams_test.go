package exec

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/flowrun/flowrun/pkg/spec"
)

// remote is a Dispatcher that runs items the way a cluster worker will: it
// sends the step id, the scope and each item through JSON, and a worker
// with its own ItemRunner runs them. One goroutine (lane 0) dispatches in
// index order; results come back over a channel.
type remote struct {
	wf   *spec.Workflow
	sent []Item
}

func (d *remote) Dispatch(ctx context.Context, job *Job) error {
	scopeJSON, err := json.Marshal(job.Scope)
	if err != nil {
		return err
	}
	worker := func(stepID string, scopeJSON, itemJSON []byte) ItemResult {
		var sc spec.Scope
		var it Item
		if err := json.Unmarshal(scopeJSON, &sc); err != nil {
			return ItemResult{Status: Failed, Error: err.Error()}
		}
		if err := json.Unmarshal(itemJSON, &it); err != nil {
			return ItemResult{Status: Failed, Error: err.Error()}
		}
		ir := &ItemRunner{Dir: d.wf.Dir, File: d.wf.File}
		return ir.RunItem(ctx, d.wf.Step(stepID), &sc, it)
	}
	for {
		it, ok, err := job.Next(ctx, 0)
		if err != nil || !ok {
			return err
		}
		d.sent = append(d.sent, it)
		itemJSON, _ := json.Marshal(it)
		got := worker(job.Step.ID, scopeJSON, itemJSON)
		res := job.Result(0, it.Index)
		*res = got
		if err := job.Done(0, res); err != nil {
			return err
		}
	}
}

// TestDispatcherElsewhere: a block run by another Dispatcher, its items
// and scope sent as JSON, gives the results the local pool gives, and
// every item reaches the Dispatcher with its key already evaluated.
func TestDispatcherElsewhere(t *testing.T) {
	src := `
version: 1
inputs: {base: {type: integer, default: 10}}
steps:
  - id: list
    probe: {out: [{name: a, n: 1}, {name: b, n: 2}, {name: c, n: 3}]}
  - id: fan
    parallel: {items: "${{ steps.list.output }}", as: ns, key: "${{ ns.name }}", on_error: continue, max_failures: 1}
    probe: {out: "${{ ns.n + inputs.base }}", fail: "${{ ns.name == 'b' }}"}
`
	inputs := map[string]any{"base": 10}
	local := runYAML(t, src, Options{Workers: 2, Inputs: inputs})
	wf := load(t, src)
	d := &remote{wf: wf}
	rep := Run(context.Background(), wf, Options{Dispatcher: d, Inputs: inputs})
	ignore := cmp.Options{cmpopts.IgnoreFields(ItemResult{}, "OffsetMS", "DurationMS", "Worker", "Lane"), cmpopts.IgnoreUnexported(ItemResult{})}
	if diff := cmp.Diff(local.Step("fan").Results, rep.Step("fan").Results, ignore); diff != "" {
		t.Errorf("results (-local +remote):\n%s", diff)
	}
	if st := rep.Step("fan").Status; st != Succeeded {
		t.Errorf("fan %s; want succeeded (one failure tolerated)", st)
	}
	want := []Item{{Index: 0, Key: "a", Value: map[string]any{"name": "a", "n": 1}}, {Index: 1, Key: "b", Value: map[string]any{"name": "b", "n": 2}}, {Index: 2, Key: "c", Value: map[string]any{"name": "c", "n": 3}}}
	if diff := cmp.Diff(want, d.sent); diff != "" {
		t.Errorf("items dispatched (-want +got):\n%s", diff)
	}
}

// recorder counts what it is told.
type recorder struct {
	mu      sync.Mutex
	items   map[string][]int
	steps   []string
	runs    int
	failOn  int // ItemDone fails for this index, when >= 0
	failErr error
}

func (r *recorder) ItemDone(s *spec.Step, res *ItemResult) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items[s.ID] = append(r.items[s.ID], res.Index)
	if res.Index == r.failOn {
		return r.failErr
	}
	return nil
}

func (r *recorder) StepDone(s *spec.Step, rep *StepReport) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, s.ID+"="+string(rep.Status))
	return nil
}

func (r *recorder) RunDone(*Report) error { r.runs++; return nil }

// TestRecorderHearsEveryResult: every item (cancelled ones included),
// every step (skipped ones included) and the run's end.
func TestRecorderHearsEveryResult(t *testing.T) {
	rec := &recorder{items: map[string][]int{}, failOn: -1}
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..5 }}", workers: 1}
    probe: {fail: "${{ item == 2 }}"}
  - id: after
    needs: [fan]
    probe: {}
finally:
  - id: last
    probe: {}
`, Options{Recorder: rec})
	if st := rep.Status; st != Failed {
		t.Fatalf("run %s; want failed", st)
	}
	if got := rec.items["fan"]; len(got) != 3 {
		t.Errorf("ItemDone for items %v; want 0, 1, 2 (the rest never started)", got)
	}
	wantSteps := []string{"fan=failed", "after=skipped", "last=succeeded"}
	if diff := cmp.Diff(wantSteps, rec.steps, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("StepDone (-want +got):\n%s", diff)
	}
	if rec.runs != 1 {
		t.Errorf("RunDone called %d times; want 1", rec.runs)
	}
}

// TestRecorderFailureFailsTheBlock: a result that cannot be recorded is
// not reported as kept.
func TestRecorderFailureFailsTheBlock(t *testing.T) {
	rec := &recorder{items: map[string][]int{}, failOn: 1, failErr: errors.New("disk full")}
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..3 }}", workers: 1}
    probe: {}
`, Options{Recorder: rec})
	fan := rep.Step("fan")
	if fan.Status != Failed || !strings.Contains(fan.Error, "disk full") || rep.Status != Failed {
		t.Errorf("fan %s (%s), run %s; want both failed, naming the recorder's error", fan.Status, fan.Error, rep.Status)
	}
}

// TestItemRunnerAlone runs one item of a compiled step with nothing but a
// scope and the item: what a cluster worker does.
func TestItemRunnerAlone(t *testing.T) {
	wf := load(t, `
version: 1
inputs: {base: {type: integer, default: 10}}
steps:
  - id: fan
    parallel: {items: [1], as: x}
    probe: {out: "${{ x + inputs.base + index }}"}
`)
	ir := &ItemRunner{Dir: wf.Dir}
	sc := &spec.Scope{Inputs: map[string]any{"base": 100}}
	res := ir.RunItem(context.Background(), wf.Step("fan"), sc, Item{Index: 4, Key: "k", Value: 2})
	if res.Status != Succeeded || res.Output != 106 || res.Key != "k" || res.Index != 4 {
		t.Errorf("got %+v; want item 4 (key k) succeeded with 106", res)
	}
}
