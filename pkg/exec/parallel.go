package exec

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/flowrun/flowrun/internal/jsonenc"
	"github.com/flowrun/flowrun/pkg/spec"
)

// runBlock runs a parallel block: its policy, the same wherever the items
// run. It opens the block's source, decides the worker count, and hands
// the items to the run's Dispatcher (dispatch.go; the local pool unless
// Options says otherwise) as a Job whose callbacks keep the policy:
//
//   - Next takes items from the source in index order, evaluates each
//     item's key before the item is dispatched (an item whose key fails is
//     a failed item that never runs), records the items a resumed run
//     restores (Restorer) without dispatching them, holds back an item
//     whose limit: key is saturated in favour of the next that fits
//     (limit.go), and waits for the block's rate: before it hands out the
//     others. Once the block's duration: has passed it
//     takes no more: the items left are not started (a status of their
//     own, neither failed nor cancelled), and the items running finish.
//   - Done records each finished item: in the block's tallies (sink.go;
//     one per lane, no lock), with the Observer and the Recorder. A failure
//     beyond max_failures with on_error: cancel returns an error, which
//     makes the Dispatcher start no more items and cancel those running.
//
// When the Dispatcher returns, the tallies become the step's results and
// summary, and the block's status is decided: failed beyond the tolerance
// or when the source or a recorder failed, cancelled when the run was,
// succeeded otherwise. A block that did not run every item to its end is
// marked Incomplete.
func (r *run) runBlock(ctx context.Context, b *BoundStep, rep *StepReport) {
	s, blk := b.step, b.step.Parallel
	start := time.Now()
	src, err := r.source(b)
	if err != nil {
		rep.Status, rep.Error = Failed, err.Error()
		return
	}
	defer src.close()
	n := src.len()
	workers, err := r.workers(b)
	if err != nil {
		rep.Status, rep.Error = Failed, err.Error()
		return
	}
	if n >= 0 {
		workers = min(workers, n)
	}
	col, err := newCollector(blk, n, max(workers, 1), s.ID, r.opts.hooks, start.Sub(r.ir.Start), r.resultsPaths[s.ID])
	if err != nil {
		rep.Status, rep.Error = Failed, err.Error()
		return
	}
	col.mask = r.mask
	if obs := r.opts.Observer; obs != nil {
		obs.StepStarted(s, n)
	}
	// With a share of an unknown number of items (items_from), or of the
	// items a duration: lets start, failures are tolerated until the end,
	// where the share of the items that ran applies.
	tolerated := blk.Tolerated(max(n, 0))
	shareAtEnd := (n < 0 || blk.Duration > 0) && blk.MaxFailures < 0
	if shareAtEnd {
		tolerated = math.MaxInt
	}
	cancelOnError := blk.OnError == spec.OnErrorCancel
	var failures atomic.Int64
	obs, rec, rst := r.opts.Observer, r.opts.Recorder, r.opts.Restorer
	starter, _ := obs.(ItemStarter)
	pace := newGate(blk.Rate)
	// drained is set once the source has no item left: a block that ends
	// without it did not read all its items.
	var drained atomic.Bool
	// No item starts after the deadline, when the block has a duration.
	var deadline time.Time
	if blk.Duration > 0 {
		deadline = start.Add(blk.Duration)
	}
	var timeUp atomic.Bool
	var seen *keySet // the keys seen, when key: sets them
	if blk.Key != nil {
		seen = newKeySet()
	}
	var restored atomic.Int64
	if bs, ok := rec.(BlockStarter); ok {
		if err := bs.BlockStarted(s, n); err != nil {
			rep.Status, rep.Error = Failed, fmt.Sprintf("%s: step %q: recording the start: %v", s.Pos, s.ID, err)
			return
		}
	}

	// The outputs of a block that keeps them all but that nothing reads
	// are kept as JSON (Options.CompactResults).
	compact := r.opts.CompactResults && blk.Results == spec.ResultsAll && !blk.OutputsRead
	done := func(lane int, res *ItemResult) error {
		if res.Attempts > 0 && !res.Restored {
			res.Lane = lane + 1
		}
		// An output too deep to be written and read back fails its item,
		// without it, rather than the block and its report: found as the
		// journal writes it, or, with no recorder, as it is compacted.
		// The observer hears of the item after, as it ended.
		if rec != nil {
			err := rec.ItemDone(s, res)
			if errors.Is(err, jsonenc.ErrTooDeep) && res.Status == Succeeded {
				unrecordable(b, res)
				err = rec.ItemDone(s, res)
			}
			if err != nil {
				return &sourceError{fmt.Errorf("%s: step %q item %d: recording the result: %w", s.TypePos, s.ID, res.Index, err)}
			}
		}
		if compact {
			if err := compactOutput(res); errors.Is(err, jsonenc.ErrTooDeep) {
				unrecordable(b, res)
			}
		} else if !outputIsJSON(res) {
			// Values read by expressions stay; their JSON, which the
			// journal asked for, would double what the block keeps.
			res.outJSON = nil
		}
		if obs != nil {
			obs.ItemFinished(s, res)
		}
		col.lane(lane).record(res)
		if err := col.fileErr(); err != nil {
			return &sourceError{err}
		}
		if res.Status == Failed && failures.Add(1) > int64(tolerated) && cancelOnError {
			return &blockError{res: *res}
		}
		return nil
	}
	lim, err := r.limiter(b)
	if err != nil {
		rep.Status, rep.Error = Failed, err.Error()
		return
	}
	// take reads the next item that can run, waits for the block's rate
	// (unless ctx is nil) and evaluates its key (and, with limits, its
	// limit keys, appended to lk); an item whose keys cannot be evaluated
	// fails unrun, and take goes on to the next.
	var keys func(i int, value any, lk []string) (string, []string, error)
	if lim == nil {
		keys = func(i int, value any, lk []string) (string, []string, error) {
			key, err := b.Key(i, value)
			return key, lk, err
		}
	} else {
		keys = lim.keys
	}
	// unstarted records an item stopped while it waited for the rate:
	// cancelled with the block, or not started when the block's duration
	// ended first.
	unstarted := func(ctx context.Context, lane int, it Item) {
		res := col.lane(lane).slot(it.Index)
		res.Index, res.Key, res.Status = it.Index, it.Key, Cancelled
		if ctx.Err() == nil {
			res.Status = NotStarted
			timeUp.Store(true)
		}
		col.lane(lane).record(res)
	}
	timeIsUp := func() bool {
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			timeUp.Store(true)
			return true
		}
		return false
	}
	take := func(ctx context.Context, lane int, lk []string) (Item, []string, bool, error) {
		for {
			if timeIsUp() || ctx != nil && ctx.Err() != nil {
				return Item{}, lk, false, nil
			}
			i, value, ok, err := src.next()
			if err != nil {
				return Item{}, lk, false, &sourceError{err}
			}
			if !ok {
				drained.Store(true)
				return Item{}, lk, false, nil
			}
			key, more, err := keys(i, value, lk)
			if err == nil && seen != nil {
				if first, dup := seen.add(key, i); dup {
					return Item{}, lk, false, &sourceError{fmt.Errorf("%s: step %q: items %d and %d have the same key %q; a key identifies an item (a resumed run matches results by it): make key: tell them apart",
						blk.Key.Pos, s.ID, min(first, i), max(first, i), key)}
				}
			}
			if err != nil {
				if starter != nil {
					starter.ItemStarted(s, i)
				}
				res := col.lane(lane).slot(i)
				res.Index, res.Key, res.Status = i, key, Failed
				res.OffsetMS = ms(time.Since(r.ir.Start))
				res.Error = b.itemError(res, err)
				if err := done(lane, res); err != nil {
					return Item{}, lk, false, err
				}
				continue
			}
			it := Item{Index: i, Key: key, Value: value}
			if rst != nil {
				prev, err := rst.Item(s, key)
				if err != nil {
					return Item{}, lk, false, &sourceError{fmt.Errorf("%s: step %q item %d (key %q): resuming: %w", s.TypePos, s.ID, i, key, err)}
				}
				if prev.Succeeded {
					// Succeeded in an earlier attempt: recorded, not
					// run again, not held against a limit or a rate.
					res := col.lane(lane).slot(i)
					restoredItem(res, i, key, prev)
					restored.Add(1)
					if err := done(lane, res); err != nil {
						return Item{}, lk, false, err
					}
					continue
				}
				it.Attempts = prev.Attempts
			}
			if ctx != nil {
				if it.Due, ok = pace.waitUntil(ctx, deadline); !ok {
					// Stopped while waiting: the item never starts.
					unstarted(ctx, lane, it)
					return Item{}, lk, false, nil
				}
			}
			return it, more, true, nil
		}
	}
	next := func(ctx context.Context, lane int) (Item, bool, error) {
		it, _, ok, err := take(ctx, lane, nil)
		return it, ok, err
	}
	finished := done
	if lim != nil {
		// The limiter picks the item, then it waits for the rate.
		lim.pull = func(lane int, lk []string) (Item, []string, bool, error) { return take(nil, lane, lk) }
		next = func(ctx context.Context, lane int) (Item, bool, error) {
			it, ok, err := lim.next(ctx, lane)
			if ok {
				// A held-back item may come after the duration ended.
				var due time.Time
				if ok = !timeIsUp(); ok {
					due, ok = pace.waitUntil(ctx, deadline)
				}
				if !ok {
					lim.release(it.Index)
					unstarted(ctx, lane, it)
					return Item{}, false, nil
				}
				it.Due = due
			}
			return it, ok, err
		}
		finished = func(lane int, res *ItemResult) error {
			lim.release(res.Index)
			return done(lane, res)
		}
	}
	job := &Job{
		Step: s, Scope: b.sc, Workers: max(workers, 1),
		RunID: r.ir.origin.runID, Path: r.ir.origin.path, Env: r.ir.origin.env, Start: r.ir.Start,
		Next: next,
		Run: func(ctx context.Context, it Item, res *ItemResult) {
			if starter != nil {
				starter.ItemStarted(s, it.Index)
			}
			b.Run(ctx, it, res)
		},
		Result: func(lane, index int) *ItemResult { return col.lane(lane).slot(index) },
		Done:   finished,
	}
	d := r.opts.Dispatcher
	if d == nil || blk.Local {
		d = localPool{}
	}
	err = d.Dispatch(ctx, job)
	if lim != nil {
		// Items held back for their keys when the block stopped never
		// started: cancelled, or not started when the duration ended it.
		status := Cancelled
		if timeUp.Load() && ctx.Err() == nil {
			status = NotStarted
		}
		for _, it := range lim.drain() {
			res := col.lane(0).slot(it.Index)
			res.Index, res.Key, res.Status = it.Index, it.Key, status
			col.lane(0).record(res)
		}
	}
	col.each((*tally).done)
	end := blockEnd{workers: job.Workers, elapsed: time.Since(start), timeUp: timeUp.Load()}
	if pace != nil {
		end.asked, end.achieved = pace.perSec, pace.achieved()
	}
	if ferr := col.finish(rep, end); ferr != nil && err == nil {
		err = &sourceError{ferr}
	}
	if rep.Restored = int(restored.Load()); rep.Restored > 0 && end.elapsed > 0 {
		// The rate is of the items that ran, not of those restored.
		sm := rep.Summary
		sm.ItemsPerSec = round(float64(sm.Succeeded+sm.Failed-rep.Restored) / end.elapsed.Seconds())
	}
	if lim != nil {
		rep.Summary.Limits = lim.summary()
	}
	if shareAtEnd {
		sm := rep.Summary
		tolerated = blk.Tolerated(sm.Total - sm.NotStarted)
	}
	var be *blockError
	var se *sourceError
	switch {
	case errors.As(err, &se):
		rep.Status, rep.Error = Failed, se.err.Error()
	case errors.As(err, &be):
		rep.Status = Failed
		rep.Error = be.res.Error
		if tolerated > 0 {
			rep.Error = fmt.Sprintf("%s (more than max_failures %d)", rep.Error, tolerated)
		}
	case err != nil && ctx.Err() == nil:
		rep.Status, rep.Error = Failed, fmt.Sprintf("%s: step %q: %v", blk.Pos, s.ID, err)
	case rep.Summary.Failed > tolerated:
		rep.Status = Failed
		of := fmt.Sprintf("%d items", rep.Summary.Total)
		if ns := rep.Summary.NotStarted; ns > 0 {
			of = fmt.Sprintf("the %d items started", rep.Summary.Total-ns)
		}
		rep.Error = fmt.Sprintf("%s: step %q: %d of %s failed (max_failures %d); first: %s",
			blk.Pos, s.ID, rep.Summary.Failed, of, tolerated, firstFailure(rep.Results))
	case ctx.Err() != nil:
		rep.Status, rep.Reason = Cancelled, reasonFor(ctx)
	default:
		rep.Status = Succeeded
	}
	// Whatever its status, a block that did not run every item to its end
	// says so, and one that did not read them all cannot line its outputs
	// up with them.
	// (With a known count, items never taken are counted as cancelled.)
	rep.unaligned = n < 0 && !drained.Load()
	rep.Incomplete = rep.Summary.Cancelled > 0 || rep.unaligned
}

// unrecordable fails a succeeded item whose output is nested too deeply
// to be written and read back (jsonenc.ErrTooDeep), and drops the output.
func unrecordable(b *BoundStep, res *ItemResult) {
	res.Status, res.Output, res.outJSON = Failed, nil, nil
	res.Error = b.itemError(res, fmt.Errorf("its output cannot be recorded: %w", jsonenc.ErrTooDeep))
}

// sourceError stops a block whose items could not be read, or whose
// results could not be written.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }

type blockError struct{ res ItemResult }

func (e *blockError) Error() string { return e.res.Error }

func firstFailure(results []*ItemResult) string {
	for _, r := range results {
		if r.Status == Failed {
			return r.Error
		}
	}
	return ""
}

// workers is the block's worker count: its own, or the run's default.
func (r *run) workers(b *BoundStep) (int, error) {
	blk := b.step.Parallel
	if blk.WorkersExpr != nil {
		v, err := blk.WorkersExpr.Eval(b.scope)
		if err != nil {
			return 0, err
		}
		n, ok := v.(int)
		switch {
		case !ok || n < 1:
			return 0, fmt.Errorf("%s: workers must be a positive integer, got %s", blk.WorkersExpr.Pos, spec.Text(v))
		case n > spec.MaxWorkers:
			return 0, fmt.Errorf("%s: workers %d exceeds the limit of %d; a block cannot usefully run more items at once", blk.WorkersExpr.Pos, n, spec.MaxWorkers)
		}
		return n, nil
	}
	if blk.Workers > 0 {
		return blk.Workers, nil
	}
	return r.opts.Workers, nil
}
