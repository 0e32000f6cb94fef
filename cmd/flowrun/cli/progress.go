package cli

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/spec"
)

// maxItemFailuresLogged bounds how many failed items of one block are
// logged as they happen; the summary and the report have all of them.
const maxItemFailuresLogged = 20

// observer turns a run's events into log lines and, on a terminal, live
// progress bars. ItemStarted and ItemFinished are on the executor's hot
// path: they only touch atomic counters, except for the rare failed item.
type observer struct {
	log      *slog.Logger
	live     *mpb.Progress // nil when stderr is not a terminal
	redraw   chan<- any    // the live display's refresh
	interval time.Duration // between progress lines without a terminal
	now      func() time.Time

	blocks sync.Map // *spec.Step -> *running
	stop   chan struct{}

	mu       sync.Mutex
	failures []string // errors in the order they happened
	wg       sync.WaitGroup
}

// running is a step in progress.
type running struct {
	step  *spec.Step
	block bool // a parallel block
	total int  // items; -1 when not known (a single step, or items_from)
	start time.Time
	bar   *mpb.Bar

	started, finished, failed, cancelled, logged atomic.Int64
	// waiting: the block's items wait on a cluster with no worker there.
	waiting atomic.Bool
}

func newObserver(log *slog.Logger, live *mpb.Progress, redraw chan<- any, interval time.Duration) *observer {
	o := &observer{log: log, live: live, redraw: redraw, interval: interval, now: time.Now, stop: make(chan struct{})}
	o.wg.Add(1)
	go o.tick()
	return o
}

// close stops the ticker. It does not touch the live display.
func (o *observer) close() {
	close(o.stop)
	o.wg.Wait()
}

func (o *observer) StepStarted(s *spec.Step, items int) {
	st := &running{step: s, block: s.Parallel != nil, total: items, start: o.now()}
	switch {
	case items >= 0 && st.block && s.Parallel.Duration > 0:
		o.log.Info(fmt.Sprintf("%s started (%d items, for at most %s)", s.ID, items, s.Parallel.Duration))
	case items >= 0:
		o.log.Info(fmt.Sprintf("%s started (%d items)", s.ID, items))
	case st.block:
		o.log.Info(s.ID + " started (items streamed from a file)")
	default:
		o.log.Info(s.ID + " started")
	}
	if o.live != nil {
		st.bar = o.newBar(st)
	}
	o.blocks.Store(s, st)
}

func (o *observer) ItemStarted(s *spec.Step, _ int) {
	if st, ok := o.blocks.Load(s); ok {
		st.(*running).started.Add(1)
	}
}

func (o *observer) ItemFinished(s *spec.Step, r *exec.ItemResult) {
	v, ok := o.blocks.Load(s)
	if !ok {
		return
	}
	st := v.(*running)
	switch r.Status {
	case exec.Failed:
		st.failed.Add(1)
		o.failed(r.Error)
		switch n := st.logged.Add(1); {
		case n <= maxItemFailuresLogged:
			o.log.Error(failureText(r.Error, r.LogTail), "status", string(exec.Failed))
		case n == maxItemFailuresLogged+1:
			o.log.Warn(fmt.Sprintf("%s: more items failed; the summary lists them all", s.ID))
		}
	case exec.Cancelled:
		st.cancelled.Add(1)
	}
	st.finished.Add(1)
}

// Waiting is told by a cluster dispatcher when a block's items wait with
// no worker to take them, and when a worker comes: the progress line says
// "waiting for workers" meanwhile, and the log says when it starts.
func (o *observer) Waiting(s *spec.Step, waiting bool) {
	v, ok := o.blocks.Load(s)
	if !ok {
		return
	}
	if v.(*running).waiting.Swap(waiting) != waiting && waiting {
		o.log.Warn(s.ID + ": waiting for workers (none is taking items from the cluster)")
	}
}

func (o *observer) StepFinished(s *spec.Step, r *exec.StepReport) {
	if v, ok := o.blocks.LoadAndDelete(s); ok {
		if bar := v.(*running).bar; bar != nil {
			bar.Abort(true)
		}
	}
	if r.Status == exec.Failed && r.Error != "" && (r.Summary == nil || r.Summary.Failed == 0) {
		o.failed(r.Error)
	}
	line := fmt.Sprintf("%s %s", s.ID, r.Status)
	switch r.Status {
	case exec.Skipped, exec.Cancelled:
		if r.Reason != "" {
			line += ": " + r.Reason
		}
	case exec.Succeeded:
		if r.Restored > 0 && r.Summary == nil {
			line += " in an earlier attempt (restored from the run's journal)"
			break
		}
		fallthrough
	default:
		line += " in " + fmtMS(r.DurationMS)
		if sm := r.Summary; sm != nil {
			line += " (" + counts(sm)
			if r.Restored > 0 {
				line += fmt.Sprintf("; %d restored from earlier attempts", r.Restored)
			}
			line += ")"
		}
	}
	if r.Status == exec.Failed && r.Error != "" {
		line += "\n  " + strings.ReplaceAll(r.Error, "\n", "\n  ")
	}
	o.log.Info(line, "status", string(r.Status))
}

// failed records a failure for the summary; failures are rare, so a lock
// is cheap enough.
func (o *observer) failed(err string) {
	o.mu.Lock()
	o.failures = append(o.failures, err)
	o.mu.Unlock()
}

// Failures returns the run's failures, first to last.
func (o *observer) Failures() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.failures...)
}

// counts renders a block's item counts, leaving out the zeros but "ok".
func counts(sm *exec.Summary) string {
	parts := []string{fmt.Sprintf("%d ok", sm.Succeeded)}
	for _, c := range []struct {
		n    int
		what string
	}{{sm.Failed, "failed"}, {sm.Skipped, "skipped"}, {sm.Cancelled, "cancelled"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	return strings.Join(parts, ", ")
}

// failureText is a failed item's error followed by the last lines of its
// log, each marked with a bar.
func failureText(err, tail string) string {
	if tail == "" {
		return err
	}
	return err + "\n  | " + strings.ReplaceAll(tail, "\n", "\n  | ")
}

// stats is a block's progress: "120/10000 done, 2 failed, 4 running,
// 85.3/s, ETA 1m56s".
func (st *running) stats(now time.Time) string {
	done, failed := st.finished.Load(), st.failed.Load()
	inflight := st.started.Load() - done
	elapsed := now.Sub(st.start)
	var b strings.Builder
	if st.total >= 0 {
		fmt.Fprintf(&b, "%d/%d done", done, st.total)
	} else {
		fmt.Fprintf(&b, "%d done", done)
	}
	fmt.Fprintf(&b, ", %d failed, %d running", failed, max(inflight, 0))
	if st.waiting.Load() {
		b.WriteString(", waiting for workers")
		return b.String()
	}
	if elapsed > 0 && done > 0 {
		rate := float64(done) / elapsed.Seconds()
		fmt.Fprintf(&b, ", %.1f/s", rate)
		if st.total >= 0 {
			eta := time.Duration(float64(int64(st.total)-done) / rate * float64(time.Second))
			if p := st.step; p != nil && p.Parallel != nil && p.Parallel.Duration > 0 {
				d := p.Parallel.Duration
				// A load test ends with its duration: no item starts
				// after it.
				eta = min(eta, max(d-elapsed, 0))
			}
			fmt.Fprintf(&b, ", ETA %s", fmtETA(eta))
		}
	}
	return b.String()
}

func fmtETA(d time.Duration) string {
	switch {
	case d < time.Second:
		return "<1s"
	case d < time.Minute:
		return d.Round(time.Second).String()
	default:
		return d.Round(time.Minute).String()
	}
}

// tick writes a progress line per long parallel block every interval when
// there is no live display, and moves the live bars otherwise.
func (o *observer) tick() {
	defer o.wg.Done()
	every := o.interval
	if o.live != nil {
		every = 150 * time.Millisecond
	}
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-t.C:
		}
		now := o.now()
		o.blocks.Range(func(_, v any) bool {
			st := v.(*running)
			switch {
			case !st.block:
			case st.bar != nil && st.total >= 0:
				st.bar.SetCurrent(st.finished.Load())
			case st.bar != nil:
			case now.Sub(st.start) >= o.interval:
				o.log.Info(st.step.ID + ": " + st.stats(now))
			}
			return true
		})
		if o.live != nil {
			o.redraw <- now
		}
	}
}

// newBar adds a step's line to the live display: a bar with counts, rate
// and ETA for a parallel block, a spinner for any other step.
func (o *observer) newBar(st *running) *mpb.Bar {
	name := decor.Name(st.step.ID, decor.WCSyncSpaceR)
	if st.block && st.total < 0 {
		return o.live.New(0, mpb.SpinnerStyle(), mpb.PrependDecorators(name),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return st.stats(o.now()) })))
	}
	if st.total < 0 {
		return o.live.New(0, mpb.SpinnerStyle(), mpb.PrependDecorators(name),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
				return fmtMS(float64(o.now().Sub(st.start).Milliseconds()))
			})))
	}
	return o.live.New(int64(st.total), mpb.BarStyle(), mpb.PrependDecorators(name),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return st.stats(o.now()) })))
}

func fmtMS(ms float64) string {
	switch {
	case ms >= 1000:
		return fmt.Sprintf("%.2fs", ms/1000)
	case ms >= 10:
		return fmt.Sprintf("%.0fms", ms)
	case ms >= 1:
		return fmt.Sprintf("%.1fms", ms)
	case ms >= 0.001:
		// Fast items: 0.04ms would print as 0.0ms.
		return fmt.Sprintf("%.0fµs", ms*1000)
	case ms > 0:
		return "<1µs"
	default:
		return "0"
	}
}
