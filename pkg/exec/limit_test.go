package exec

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowrun/flowrun/pkg/steps"
)

// span is a step type that records when each item ran, by the item's own
// clock: the analyses below read concurrency from these intervals, not
// from the wall-clock total of the block.
type span struct {
	Host  string         `yaml:"host"`
	Delay steps.Duration `yaml:"delay"`
	Block bool           `yaml:"block"` // wait for ctx, or for release
	Fail  bool           `yaml:"fail"`
	log   *spans
}

type interval struct {
	index      int
	host       string
	start, end time.Time
}

// spans is one test's record of items and events.
type spans struct {
	mu        sync.Mutex
	intervals []interval
	events    []string // "start 3", "end 3", in the order they happened
	release   chan struct{}
	started   chan int
}

func (s *span) Run(ctx context.Context, in *steps.Input) (any, error) {
	l := s.log
	start := time.Now()
	l.mu.Lock()
	l.events = append(l.events, fmt.Sprintf("start %d", in.Index))
	l.mu.Unlock()
	if l.started != nil {
		l.started <- in.Index
	}
	var err error
	switch {
	case s.Block:
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-l.release:
		}
	case s.Delay > 0:
		if !sleep(ctx, time.Duration(s.Delay)) {
			err = ctx.Err()
		}
	}
	if s.Fail {
		err = fmt.Errorf("span %d failed", in.Index)
	}
	end := time.Now()
	l.mu.Lock()
	l.intervals = append(l.intervals, interval{in.Index, s.Host, start, end})
	l.events = append(l.events, fmt.Sprintf("end %d", in.Index))
	l.mu.Unlock()
	return nil, err
}

func spanRegistry(l *spans) *steps.Registry {
	r := registry()
	r.Register(steps.Info{Type: "span", New: func() steps.Step { return &span{log: l} }})
	return r
}

// peak is the most intervals that overlap, for each host and in all.
func peak(ivs []interval) (perHost map[string]int, all int) {
	type event struct {
		at    time.Time
		delta int
		host  string
	}
	var evs []event
	for _, iv := range ivs {
		evs = append(evs, event{iv.start, 1, iv.host}, event{iv.end, -1, iv.host})
	}
	// At equal times an end comes first: an item that ends as another
	// starts does not overlap it.
	slices.SortFunc(evs, func(a, b event) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.delta - b.delta
	})
	perHost = map[string]int{}
	running := map[string]int{}
	n := 0
	for _, e := range evs {
		running[e.host] += e.delta
		n += e.delta
		perHost[e.host] = max(perHost[e.host], running[e.host])
		all = max(all, n)
	}
	return perHost, all
}

// busy is the mean number of items in flight from the first start to the
// last end: the sum of the items' durations over that span.
func busy(ivs []interval) float64 {
	first, last := ivs[0].start, ivs[0].end
	var sum time.Duration
	for _, iv := range ivs {
		sum += iv.end.Sub(iv.start)
		if iv.start.Before(first) {
			first = iv.start
		}
		if iv.end.After(last) {
			last = iv.end
		}
	}
	return float64(sum) / float64(last.Sub(first))
}

// TestLimitPerHostKeepsWorkersBusy is the measure: 200 items of
// 50ms, 16 workers, 8 hosts at most 2 each. No host ever runs more than
// 2 items, and the block keeps at least 0.9 of the 16 workers busy,
// whether a host's items are spread out or all in a row (where only
// skipping past a saturated host keeps the workers busy).
func TestLimitPerHostKeepsWorkersBusy(t *testing.T) {
	for _, tc := range []struct{ name, host string }{
		{"interleaved", "h${{ item % 8 }}"},
		{"in a row", "h${{ int(item / 25) }}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &spans{}
			wf := loadWith(t, spanRegistry(l), fmt.Sprintf(`
version: 1
steps:
  - id: fan
    parallel:
      items: ${{ 0..199 }}
      workers: 16
      limit: {key: "%[1]s", max: 2}
    span: {host: "%[1]s", delay: 50ms}
`, tc.host))
			rep := Run(context.Background(), wf, Options{})
			fan := rep.Step("fan")
			if fan.Status != Succeeded || len(l.intervals) != 200 {
				t.Fatalf("fan %s with %d items run: %s", fan.Status, len(l.intervals), fan.Error)
			}
			perHost, all := peak(l.intervals)
			if len(perHost) != 8 {
				t.Errorf("%d hosts; want 8", len(perHost))
			}
			for h, n := range perHost {
				if n > 2 {
					t.Errorf("host %s ran %d items at once; the limit is 2", h, n)
				}
			}
			if all > 16 {
				t.Errorf("%d items at once; workers is 16", all)
			}
			b := busy(l.intervals)
			if b < 0.9*16 {
				t.Errorf("%.1f items in flight on average; want at least %.1f (0.9 of 16)", b, 0.9*16)
			}
			t.Logf("%.2f items in flight on average (%.3f of 16); at most %d at once, per host %v", b, b/16, all, perHost)
			lim := fan.Summary.Limits
			if len(lim) != 1 || lim[0].Peak != 2 || lim[0].Max != 2 || len(lim[0].Keys) != 8 {
				t.Fatalf("summary limits %+v; want one limit with peak 2 over 8 keys", lim)
			}
			// The summary counts an item from its dispatch to its result,
			// which encloses its run: never less than the items show.
			for _, k := range lim[0].Keys {
				if k.Peak < perHost[k.Key] || k.Peak > 2 {
					t.Errorf("summary: key %s peak %d; its items show %d, the limit is 2", k.Key, k.Peak, perHost[k.Key])
				}
			}
		})
	}
}

// TestLimitSaturatedKeyDoesNotBlockOthers: while every item of one key
// waits behind a running one, the items of other keys, later in the
// block, run to the end.
func TestLimitSaturatedKeyDoesNotBlockOthers(t *testing.T) {
	l := &spans{release: make(chan struct{})}
	wf := loadWith(t, spanRegistry(l), `
version: 1
steps:
  - id: fan
    parallel:
      items: [a, a, a, a, b, c, d, e, f, g]
      workers: 3
      limit: {key: "${{ item }}", max: 1}
    span: {host: "${{ item }}", block: "${{ item == 'a' }}"}
`)
	done := make(chan *Report)
	go func() { done <- Run(context.Background(), wf, Options{}) }()
	// Item 0 holds key a until released; items 1-3 wait for it. Items 4-9
	// must all end meanwhile.
	deadline := time.After(30 * time.Second)
	for {
		l.mu.Lock()
		ended := 0
		for _, iv := range l.intervals {
			if iv.host != "a" {
				ended++
			}
		}
		l.mu.Unlock()
		if ended == 6 {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("items of other keys did not finish while key a was saturated: %v", l.events)
		case <-time.After(time.Millisecond):
		}
	}
	close(l.release)
	rep := <-done
	if s := rep.Step("fan").Summary; s.Succeeded != 10 {
		t.Fatalf("summary %+v; want 10 succeeded", s)
	}
	perHost, _ := peak(l.intervals)
	if perHost["a"] != 1 {
		t.Errorf("key a ran %d at once; want 1", perHost["a"])
	}
	if held := rep.Step("fan").Summary.Limits[0].Held; held != 3 {
		t.Errorf("held %d; want 3 (items 1-3 of key a)", held)
	}
}

// TestLimitDispatchOrder: items start in index order as far as the limits
// allow: an item held back for its key lets the later items of other keys
// start, and starts itself as soon as its key frees up, before the later
// items of its own key.
func TestLimitDispatchOrder(t *testing.T) {
	l := &spans{release: make(chan struct{})}
	wf := loadWith(t, spanRegistry(l), `
version: 1
steps:
  - id: fan
    parallel:
      items: [a, a, b, b, a]
      workers: 2
      limit: {key: "${{ item }}", max: 1}
    span: {host: "${{ item }}", block: "${{ index == 0 }}"}
`)
	done := make(chan *Report)
	go func() { done <- Run(context.Background(), wf, Options{}) }()
	// Item 0 holds key a; item 1 waits for it, items 2 and 3 (b) run.
	for !slices.Contains(l.snapshot(), "end 3") {
		time.Sleep(time.Millisecond)
	}
	close(l.release)
	rep := <-done
	if s := rep.Step("fan").Summary; s.Succeeded != 5 {
		t.Fatalf("summary %+v", s)
	}
	pos := func(ev string) int { return slices.Index(l.events, ev) }
	for _, before := range [][2]string{
		{"end 3", "start 1"}, {"end 0", "start 1"}, {"end 1", "start 4"},
	} {
		if pos(before[0]) > pos(before[1]) {
			t.Errorf("%q came after %q: %v", before[0], before[1], l.events)
		}
	}
	for i, r := range rep.Step("fan").Results {
		if r.Index != i || r.Status != Succeeded {
			t.Errorf("result %d: %+v", i, r)
		}
	}
}

func (l *spans) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// TestLimitCancelWhileItemsWait: cancelling a run whose items wait for
// their key ends it at once; the waiting items are cancelled, none
// failed, and no goroutine is left (goleak, TestMain).
func TestLimitCancelWhileItemsWait(t *testing.T) {
	l := &spans{started: make(chan int, 10)}
	wf := loadWith(t, spanRegistry(l), `
version: 1
steps:
  - id: fan
    parallel:
      items: ${{ 0..9 }}
      workers: 4
      limit: {key: "${{ item >= 0 }}", max: 1}
      key: k${{ item }}
    span: {block: true}
`)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *Report)
	go func() { done <- Run(ctx, wf, Options{}) }()
	<-l.started // item 0 runs; the other three workers wait on its key
	cancel()
	rep := <-done
	fan := rep.Step("fan")
	s := fan.Summary
	if fan.Status != Cancelled || s.Cancelled != 10 || s.Failed != 0 {
		t.Fatalf("fan %s, summary %+v; want cancelled, 10 items cancelled", fan.Status, s)
	}
	if len(l.intervals) != 1 {
		t.Errorf("%d items ran; want only item 0", len(l.intervals))
	}
	for i, r := range fan.Results {
		if r.Index != i || r.Status != Cancelled {
			t.Errorf("result %d: %+v; want cancelled", i, r)
		}
	}
}

// TestLimitFailFast: a failure cancels the running items and the ones
// waiting for their key, as it does without limits.
func TestLimitFailFast(t *testing.T) {
	l := &spans{}
	wf := loadWith(t, spanRegistry(l), `
version: 1
steps:
  - id: fan
    parallel:
      items: ${{ 0..19 }}
      workers: 4
      limit: {key: "${{ item % 2 }}", max: 1}
    span: {fail: "${{ item == 1 }}", block: "${{ item != 1 }}"}
`)
	rep := Run(context.Background(), wf, Options{})
	fan := rep.Step("fan")
	s := fan.Summary
	if fan.Status != Failed || s.Failed != 1 || s.Cancelled != 19 {
		t.Fatalf("fan %s, summary %+v; want failed: 1 failed, 19 cancelled", fan.Status, s)
	}
	if !strings.Contains(fan.Error, `item 1 (key "1"): span 1 failed`) {
		t.Errorf("error %q", fan.Error)
	}
	if len(fan.Results) != 20 {
		t.Fatalf("%d results", len(fan.Results))
	}
	for i, r := range fan.Results {
		if r.Index != i {
			t.Errorf("result %d has index %d", i, r.Index)
		}
	}
}

// TestLimitMaxAndKeyErrors: a max given by an expression is evaluated when
// the block starts, and must be a positive integer; an item whose limit
// key fails fails, unrun, with its position.
func TestLimitMaxAndKeyErrors(t *testing.T) {
	l := &spans{}
	reg := spanRegistry(l)
	rep := Run(context.Background(), loadWith(t, reg, `
version: 1
inputs: {per: {type: integer, default: 0}}
steps:
  - id: fan
    parallel:
      items: [1, 2]
      limit: {key: "${{ item }}", max: "${{ inputs.per }}"}
    span: {}
`), Options{Inputs: map[string]any{"per": 0}})
	if fan := rep.Step("fan"); fan.Status != Failed || !strings.Contains(fan.Error, "test.yaml:7:44: step \"fan\": limit max must be a positive integer, got int 0") {
		t.Errorf("fan %s: %q", fan.Status, fan.Error)
	}
	rep = Run(context.Background(), loadWith(t, reg, `
version: 1
inputs: {per: {type: integer, default: 1}}
steps:
  - id: fan
    parallel:
      items: [{h: a}, 5, {h: b}]
      limit: {key: "${{ item.h.x }}", max: "${{ inputs.per }}"}
      on_error: continue
    span: {}
`), Options{Inputs: map[string]any{"per": 1}})
	fan := rep.Step("fan")
	if s := fan.Summary; s.Failed != 3 {
		t.Errorf("summary %+v; want 3 failed", s)
	}
	if !strings.Contains(fan.Results[1].Error, `test.yaml:9:5: step "fan" item 1 (key "1"): test.yaml:7:24: ${{ item.h.x }}: cannot fetch h from int`) {
		t.Errorf("error %q", fan.Results[1].Error)
	}
}

// clusterLike dispatches as a cluster coordinator does: one goroutine
// publishes items (Next) as a worker frees up, workers run them on their
// own goroutines and hand the results back (Done) from there. Each worker
// owns a lane: Next is called with the lane of the worker the item goes
// to, so calls with one lane never overlap.
type clusterLike struct{}

func (clusterLike) Dispatch(ctx context.Context, job *Job) error {
	free := make(chan int, job.Workers)
	work := make([]chan Item, job.Workers)
	var wg sync.WaitGroup
	errs := make(chan error, job.Workers)
	for lane := range job.Workers {
		free <- lane
		work[lane] = make(chan Item)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work[lane] {
				res := job.Result(lane, it.Index)
				job.Run(ctx, it, res)
				if err := job.Done(lane, res); err != nil {
					errs <- err
				}
				free <- lane
			}
		}()
	}
	defer func() {
		for _, w := range work {
			close(w)
		}
		wg.Wait()
	}()
	for {
		var lane int
		select {
		case lane = <-free:
		case err := <-errs:
			return err
		}
		it, ok, err := job.Next(ctx, lane)
		if err != nil || !ok {
			return err
		}
		work[lane] <- it
	}
}

// TestLimitHoldsForAnyDispatcher: the limit is applied before items reach
// the Dispatcher, so it holds for one that runs them elsewhere, results
// coming back concurrently.
func TestLimitHoldsForAnyDispatcher(t *testing.T) {
	l := &spans{}
	wf := loadWith(t, spanRegistry(l), `
version: 1
steps:
  - id: fan
    parallel:
      items: ${{ 0..59 }}
      workers: 8
      limit: {key: "h${{ int(item / 20) }}", max: 2}
    span: {host: "h${{ int(item / 20) }}", delay: 5ms}
`)
	rep := Run(context.Background(), wf, Options{Dispatcher: clusterLike{}})
	if s := rep.Step("fan").Summary; s.Succeeded != 60 {
		t.Fatalf("summary %+v", s)
	}
	perHost, _ := peak(l.intervals)
	for h, n := range perHost {
		if n > 2 {
			t.Errorf("host %s ran %d items at once; the limit is 2", h, n)
		}
	}
}

// TestLimitKeysMasked: a limit's key values are in the report, and a
// secret among them is masked there like every other string.
func TestLimitKeysMasked(t *testing.T) {
	const secret = "s3cr3t-t0k3n-value"
	wf := load(t, `
version: 1
inputs: {token: {type: string, secret: true}}
steps:
  - id: fan
    parallel:
      items: ["${{ inputs.token }}", other]
      limit: {key: "${{ item }}", max: 1}
    probe: {}
`)
	opts := Options{Inputs: map[string]any{"token": secret}}
	rep := Run(context.Background(), wf, opts)
	if keys := rep.Step("fan").Summary.Limits[0].Keys; len(keys) != 2 || keys[1].Key != secret && keys[0].Key != secret {
		t.Fatalf("keys %+v; want the two values", keys)
	}
	b, err := json.Marshal(rep.Masked(newMasker(wf, opts)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) {
		t.Errorf("the masked report holds the secret: %s", b)
	}
	if !strings.Contains(string(b), `{"key":"***","peak":1}`) {
		t.Errorf("masked keys missing: %s", b)
	}
}
