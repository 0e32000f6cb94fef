package cluster

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
	_ "github.com/flowrun/flowrun/pkg/steps/all"
)

// loadFiles writes files into a new directory and loads main.yaml.
func loadFiles(t *testing.T, files map[string]string) *spec.Workflow {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.TrimLeft(src, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wf, ds := spec.Load(filepath.Join(dir, "main.yaml"), spec.Options{})
	if ds.HasErrors() {
		t.Fatalf("workflow does not load:\n%v", ds)
	}
	return wf
}

// cluster is an in-process server with flowrun workers.
type testCluster struct {
	s     *Server
	coord *Coordinator
}

// newCluster starts a server and n workers of 4 slots running flowrun
// items with reg (nil: every built-in step type), and a Coordinator for
// runs of wf.
func newCluster(t *testing.T, wf *spec.Workflow, inputs map[string]any, n int, reg *steps.Registry, opts CoordinatorOptions) *testCluster {
	t.Helper()
	s := testServer(t)
	for i := range n {
		name := "w" + string(rune('1'+i))
		h := &ItemHandler{Name: name, Registry: reg, Slots: 4}
		t.Cleanup(func() { _ = h.Close() })
		startWorker(t, s, &Worker{Name: name, Slots: 4, Handler: h.Handle, PullWait: 100 * time.Millisecond}, false)
	}
	manifest, err := NewManifest(wf, inputs, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCoordinator(testConn(t, s), manifest, opts)
	t.Cleanup(func() {
		if err := c.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return &testCluster{s: s, coord: c}
}

// sameAsLocal is a workflow whose blocks read inputs, env, earlier steps
// and keys, fail and tolerate failures, and output JSON with numbers JSON
// floats would round.
const sameAsLocal = `
version: 1
inputs:
  big: {type: integer, default: 9007199254740993}
env:
  GREETING: hello
steps:
  - id: list
    set:
      names: [ann, bob, cy, dee, eve]
  - id: fan
    parallel:
      items: ${{ steps.list.output.names }}
      as: who
      key: k-${{ who }}
      workers: 3
      on_error: continue
      max_failures: 1
    env: {WHO: "${{ who }}"}
    run: |
      if [ "$WHO" = cy ]; then echo "cy fails" >&2; exit 3; fi
      echo "{\"say\": \"$GREETING $WHO\", \"n\": ${{ inputs.big }}, \"i\": $INDEX}"
    output: json
  - id: count
    parallel: {items: "${{ 1..20 }}", workers: 4}
    set: {sq: "${{ item * item }}"}
outputs:
  said: ${{ steps.fan.outputs }}
  total: ${{ sum(map(steps.count.outputs, .sq)) }}
`

// A workflow's blocks give the same results, outputs and summary on the
// cluster as in the local pool, and each result names the worker that
// ran it.
func TestCoordinatorSameAsLocal(t *testing.T) {
	wf := loadFiles(t, map[string]string{"main.yaml": sameAsLocal})
	inputs, err := wf.ResolveInputs(nil)
	if err != nil {
		t.Fatal(err)
	}
	local := exec.Run(context.Background(), wf, exec.Options{Inputs: inputs})
	tc := newCluster(t, wf, inputs, 2, nil, CoordinatorOptions{})
	remote := exec.Run(context.Background(), wf, exec.Options{Inputs: inputs, Dispatcher: tc.coord})
	if remote.Status != local.Status || local.Status != exec.Succeeded {
		t.Fatalf("status local %s, remote %s: %s", local.Status, remote.Status, remote.Error)
	}
	ignore := gocmp.Options{cmpopts.IgnoreFields(exec.ItemResult{}, "OffsetMS", "DurationMS", "Worker", "Lane"), cmpopts.IgnoreUnexported(exec.ItemResult{})}
	for _, id := range []string{"fan", "count"} {
		l, r := local.Step(id), remote.Step(id)
		if diff := gocmp.Diff(l.Results, r.Results, ignore); diff != "" {
			t.Errorf("%s results (-local +cluster):\n%s", id, diff)
		}
		if l.Status != r.Status || l.Summary.Succeeded != r.Summary.Succeeded || l.Summary.Failed != r.Summary.Failed {
			t.Errorf("%s: local %s %+v, cluster %s %+v", id, l.Status, l.Summary, r.Status, r.Summary)
		}
		for _, res := range r.Results {
			if res.Worker != "w1" && res.Worker != "w2" {
				t.Errorf("%s item %d: worker %q", id, res.Index, res.Worker)
			}
		}
	}
	if diff := gocmp.Diff(local.Outputs, remote.Outputs); diff != "" {
		t.Errorf("outputs (-local +cluster):\n%s", diff)
	}
	if out := remote.Step("fan").Results[1].Output.(map[string]any); out["n"] != 9007199254740993 || out["say"] != "hello bob" {
		t.Errorf("item 1 output %v", out)
	}
	if fail := remote.Step("fan").Results[2]; !strings.Contains(fail.LogTail, "cy fails") || !strings.Contains(fail.Error, `step "fan" item 2 (key "k-cy"): exit status 3`) {
		t.Errorf("failed item: %+v", fail)
	}
	for _, res := range local.Step("fan").Results {
		if res.Worker != "" {
			t.Errorf("local item %d names worker %q", res.Index, res.Worker)
		}
	}
}

// A worker without the item's step type fails the item with an error
// naming the worker and the type.
func TestCoordinatorUnknownStepType(t *testing.T) {
	wf := loadFiles(t, map[string]string{"main.yaml": `
version: 1
steps:
  - id: fan
    parallel: {items: [1, 2], on_error: continue}
    run: echo ${{ item }}
`})
	reg := steps.NewRegistry()
	for _, info := range steps.Default.List() {
		if info.Type != "run" {
			reg.Register(info)
		}
	}
	tc := newCluster(t, wf, nil, 1, reg, CoordinatorOptions{})
	rep := exec.Run(context.Background(), wf, exec.Options{Dispatcher: tc.coord})
	res := rep.Step("fan").Results[0]
	if rep.Status != exec.Failed || res.Status != exec.Failed || res.Worker != "w1" ||
		!strings.Contains(res.Error, `step "fan" item 0 (key "0"): worker "w1": step type "run" is not in this worker's flowrun`) {
		t.Fatalf("run %s; item 0: %+v", rep.Status, res)
	}
}

// on_error: cancel on the cluster: the first failure fails the block, the
// items still out are cancelled on the workers and reported cancelled,
// and the rest never start.
func TestCoordinatorFailFast(t *testing.T) {
	wf := loadFiles(t, map[string]string{"main.yaml": `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..199 }}", workers: 4}
    run: |
      if [ "$INDEX" = 5 ]; then exit 7; fi
      sleep 0.05
`})
	tc := newCluster(t, wf, nil, 2, nil, CoordinatorOptions{})
	rep := exec.Run(context.Background(), wf, exec.Options{Dispatcher: tc.coord})
	fan := rep.Step("fan")
	sm := fan.Summary
	if fan.Status != exec.Failed || sm.Failed != 1 || sm.Cancelled == 0 || sm.Total != 200 || sm.Succeeded+sm.Failed+sm.Cancelled+sm.Skipped != 200 {
		t.Fatalf("fan %s (%s): %+v", fan.Status, fan.Error, sm)
	}
	if !strings.Contains(fan.Error, `item 5 (key "5"): exit status 7`) {
		t.Errorf("error %q", fan.Error)
	}
	if sm.Succeeded > 100 {
		t.Errorf("%d items succeeded after the failure of item 5: not cancelled", sm.Succeeded)
	}
}

// A block of a workflow that a single uses: step calls runs on the
// cluster too, named by its path, with the environment the calling step
// and both workflows' env: give it.
func TestCoordinatorCalledWorkflow(t *testing.T) {
	wf := loadFiles(t, map[string]string{
		"inner.yaml": `
version: 1
inputs: {n: {type: integer, required: true}}
env: {INNER: in}
steps:
  - id: fan
    parallel: {items: "${{ 1..inputs.n }}"}
    run: echo "$TOP-$STEP-$INNER-$ITEM"
outputs:
  said: ${{ steps.fan.outputs }}
`,
		"main.yaml": `
version: 1
env: {TOP: top}
steps:
  - id: call
    uses: ./inner.yaml
    with: {n: 3}
    env: {STEP: step}
outputs:
  said: ${{ steps.call.output.said }}
`})
	var sent []string
	tc := newCluster(t, wf, nil, 1, nil, CoordinatorOptions{OnSent: func(s *spec.Step, i int) { sent = append(sent, s.ID) }})
	rep := exec.Run(context.Background(), wf, exec.Options{Dispatcher: tc.coord})
	if rep.Status != exec.Succeeded {
		t.Fatalf("run %s: %s", rep.Status, rep.Error)
	}
	want := []any{"top-step-in-1", "top-step-in-2", "top-step-in-3"}
	if diff := gocmp.Diff(want, rep.Outputs["said"]); diff != "" {
		t.Errorf("said (-want +got):\n%s", diff)
	}
	if len(sent) != 3 {
		t.Errorf("items sent to the cluster: %v, want the 3 of fan", sent)
	}
}

func TestBlockName(t *testing.T) {
	long := strings.Repeat("a", 40)
	tests := []struct {
		path []string
		id   string
		want string
	}{
		{nil, "fan", "fan"},
		{[]string{"call", "inner"}, "fan", "call-inner-fan"},
		{[]string{long}, long, long + "-" + long[:6] + "-"},
	}
	for _, tt := range tests {
		got := blockName(tt.path, tt.id)
		if !isToken(got) || !strings.HasPrefix(got, tt.want) {
			t.Errorf("blockName(%v, %q) = %q; want a token starting %q", tt.path, tt.id, got, tt.want)
		}
	}
	if a, b := blockName([]string{long}, long+"x"), blockName([]string{long}, long+"y"); a == b {
		t.Errorf("two long names share %q", a)
	}
}

// Interrupting a run while its block is on the cluster cancels the items
// on the workers; the block reports them cancelled, not failed.
func TestCoordinatorInterrupted(t *testing.T) {
	wf := loadFiles(t, map[string]string{"main.yaml": `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..99 }}", workers: 4}
    sleep: 1m
`})
	tc := newCluster(t, wf, nil, 1, nil, CoordinatorOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	sent := 0
	c := NewCoordinator(testConn(t, tc.s), tc.coord.manifest, CoordinatorOptions{OnSent: func(*spec.Step, int) {
		if sent++; sent == 8 {
			once.Do(func() { time.AfterFunc(200*time.Millisecond, cancel) })
		}
	}})
	defer c.Close(context.Background())
	start := time.Now()
	rep := exec.Run(ctx, wf, exec.Options{Dispatcher: c})
	fan := rep.Step("fan")
	if rep.Status != exec.Cancelled || fan.Status != exec.Cancelled || fan.Summary.Cancelled != 100 || fan.Summary.Failed != 0 {
		t.Fatalf("run %s, fan %s %+v: %s", rep.Status, fan.Status, fan.Summary, fan.Error)
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Errorf("the interrupted run took %s", el)
	}
}

// countingRecorder counts the results a run records, per index.
type countingRecorder struct {
	mu    sync.Mutex
	items map[int]int
}

func (r *countingRecorder) ItemDone(_ *spec.Step, res *exec.ItemResult) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items[res.Index]++
	return nil
}
func (r *countingRecorder) StepDone(*spec.Step, *exec.StepReport) error { return nil }
func (r *countingRecorder) RunDone(*exec.Report) error                  { return nil }

// The run's Recorder (its journal) hears each item exactly once, though
// workers die mid-item and items run again elsewhere.
func TestCoordinatorRecorderOnceUnderKills(t *testing.T) {
	const n = 400
	wf := loadFiles(t, map[string]string{"main.yaml": fmt.Sprintf(`
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..%d }}", workers: 6}
    sleep: 2ms
`, n-1)})
	s := testServer(t)
	var procs []*workerProc
	for i := range 2 {
		h := &ItemHandler{Name: fmt.Sprint("w", i), Slots: 3}
		procs = append(procs, startWorker(t, s, &Worker{Name: fmt.Sprint("w", i), Slots: 3, Handler: h.Handle, PullWait: 100 * time.Millisecond}, true))
	}
	manifest, err := NewManifest(wf, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	rec := &countingRecorder{items: map[int]int{}}
	var sent atomic.Int64
	c := NewCoordinator(testConn(t, s), manifest, CoordinatorOptions{AckWait: 300 * time.Millisecond, MaxDeliver: 50,
		OnSent: func(_ *spec.Step, i int) {
			if i > 0 && i%100 == 0 {
				procs[i/100%2].kill()
			}
			sent.Add(1)
		}})
	defer c.Close(context.Background())
	rep := exec.Run(context.Background(), wf, exec.Options{Dispatcher: c, Recorder: rec})
	if rep.Status != exec.Succeeded {
		t.Fatalf("run %s: %s", rep.Status, rep.Error)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i := range n {
		if rec.items[i] != 1 {
			t.Errorf("index %d recorded %d times, want once", i, rec.items[i])
		}
	}
	for _, r := range rep.Step("fan").Results {
		if r.Worker == "" {
			t.Errorf("item %d without its worker", r.Index)
		}
	}
	t.Logf("%d items, 3 kills, %d sent", n, sent.Load())
}

// limit: per key holds on the cluster, with one worker (one lane: the
// next item may wait for a result) and with several.
func TestCoordinatorLimit(t *testing.T) {
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			wf := loadFiles(t, map[string]string{"main.yaml": fmt.Sprintf(`
version: 1
steps:
  - id: fan
    parallel:
      items: "${{ 0..11 }}"
      workers: %d
      limit: {key: "${{ item %% 2 }}", max: 1}
    sleep: 20ms
`, workers)})
			tc := newCluster(t, wf, nil, 2, nil, CoordinatorOptions{})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rep := exec.Run(ctx, wf, exec.Options{Dispatcher: tc.coord})
			if rep.Status != exec.Succeeded || rep.Step("fan").Summary.Succeeded != 12 {
				t.Fatalf("run %s: %s", rep.Status, rep.Error)
			}
			// Items of one key never overlap: each starts after the
			// previous one of its key ended.
			end := map[int]float64{}
			res := slices.Clone(rep.Step("fan").Results)
			slices.SortFunc(res, func(a, b *exec.ItemResult) int { return cmp.Compare(a.OffsetMS, b.OffsetMS) })
			for _, r := range res {
				k := r.Index % 2
				if r.OffsetMS < end[k] {
					t.Errorf("item %d (key %d) started at %.3f ms, before the previous one of its key ended at %.3f ms", r.Index, k, r.OffsetMS, end[k])
				}
				end[k] = r.OffsetMS + r.DurationMS
			}
		})
	}
}

// TestWorkersBoundParsedOutputs: a worker bounds the parsed outputs of the
// items it runs by the run's --max-parsed-output, which the manifest
// carries, as the coordinator would.
func TestWorkersBoundParsedOutputs(t *testing.T) {
	wf := loadFiles(t, map[string]string{"main.yaml": `
version: 1
steps:
  - id: fan
    parallel: {items: [1], on_error: continue}
    run: |
      printf '['; i=0; while [ $i -lt 3000 ]; do printf '{"a":1},'; i=$((i+1)); done; printf '{"a":1}]'
    output: json
`})
	for _, tc := range []struct {
		maxParsed int64
		fails     bool
	}{{64 << 10, true}, {0, false}} {
		s := testServer(t)
		h := &ItemHandler{Name: "w1", Slots: 1}
		t.Cleanup(func() { _ = h.Close() })
		startWorker(t, s, &Worker{Name: "w1", Slots: 1, Handler: h.Handle, PullWait: 100 * time.Millisecond}, false)
		manifest, err := NewManifest(wf, nil, tc.maxParsed)
		if err != nil {
			t.Fatal(err)
		}
		c := NewCoordinator(testConn(t, s), manifest, CoordinatorOptions{})
		rep := exec.Run(context.Background(), wf, exec.Options{Dispatcher: c, MaxParsed: tc.maxParsed})
		if err := c.Close(context.Background()); err != nil {
			t.Error(err)
		}
		res := rep.Step("fan").Results[0]
		if failed := res.Status == exec.Failed; failed != tc.fails || tc.fails && !strings.Contains(res.Error, "--max-parsed-output") {
			t.Errorf("max parsed %d: item %s %q; want failed %v (naming --max-parsed-output)", tc.maxParsed, res.Status, res.Error, tc.fails)
		}
	}
}

// TestIsToken holds isToken to the rule it replaced, the regexp
// ^[A-Za-z0-9_-]{1,64}$, over edge cases and every byte.
func TestIsToken(t *testing.T) {
	rule := regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	cases := []string{"", "a", "run-1_B", strings.Repeat("x", 64), strings.Repeat("x", 65), "a.b", "a b", "é", "a\x00", "a\n"}
	for c := 0; c < 256; c++ {
		cases = append(cases, string([]byte{byte(c)}), "ab"+string([]byte{byte(c)}))
	}
	for _, s := range cases {
		if got, want := isToken(s), rule.MatchString(s); got != want {
			t.Errorf("isToken(%q) = %v, want %v", s, got, want)
		}
	}
}
