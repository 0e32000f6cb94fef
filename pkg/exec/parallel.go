package exec

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/flowrun/flowrun/pkg/spec"
)

// runBlock runs a parallel block: a fork-join pool of workers over the
// block's items.
//
// The pool is a fixed set of `workers` goroutines in one errgroup that
// take items from the block's source as they free up (source.go), so
// items are dispatched in index order, never more than `workers` run at
// once, and a range or a file is never all in memory. Each worker records
// its results in its own tally (sink.go): no ordering by completion, no
// lock on the hot path. A failure beyond max_failures
// with on_error: cancel returns an error from its worker, which cancels
// the errgroup's context: items not yet taken are never started, running
// ones see their context cancelled. (BenchmarkPool compares this with a
// goroutine per item under errgroup.SetLimit.)
func (r *run) runBlock(ctx context.Context, b *bound, rep *StepReport) {
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
	col, err := newCollector(blk, n, workers, s.ID, r.opts.hooks)
	if err != nil {
		rep.Status, rep.Error = Failed, err.Error()
		return
	}
	col.mask = r.mask
	if obs := r.opts.Observer; obs != nil {
		obs.StepStarted(s, n)
	}
	// With a share of an unknown number of items (items_from), failures
	// are tolerated until the end, where the share of the total applies.
	tolerated := blk.Tolerated(max(n, 0))
	if n < 0 && blk.MaxFailures < 0 {
		tolerated = math.MaxInt
	}
	cancelOnError := blk.OnError == spec.OnErrorCancel
	var failures atomic.Int64
	obs := r.opts.Observer
	starter, _ := obs.(ItemStarter)
	pace := newGate(blk.Rate)

	g, gctx := errgroup.WithContext(ctx)
	for w := range workers {
		t := col.tallies[w]
		g.Go(func() error {
			defer t.done()
			for gctx.Err() == nil {
				i, item, ok, err := src.next()
				if err != nil {
					return &sourceError{err}
				}
				if !ok {
					return nil
				}
				res := t.slot(i)
				if !pace.wait(gctx) {
					// Cancelled while waiting: the item never starts.
					res.Index, res.Status = i, Cancelled
					t.record(res)
					return nil
				}
				if starter != nil {
					starter.ItemStarted(s, i)
				}
				r.runItem(gctx, b, i, item, res)
				if obs != nil {
					obs.ItemFinished(s, res)
				}
				t.record(res)
				if res.Status == Failed && failures.Add(1) > int64(tolerated) && cancelOnError {
					return &blockError{res: *res}
				}
			}
			return nil
		})
	}
	err = g.Wait()
	if ferr := col.finish(rep, max(workers, 1), time.Since(start)); ferr != nil && err == nil {
		err = &sourceError{ferr}
	}
	if n < 0 {
		tolerated = blk.Tolerated(rep.Summary.Total)
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
	case rep.Summary.Failed > tolerated:
		rep.Status = Failed
		rep.Error = fmt.Sprintf("%s: step %q: %d of %d items failed (max_failures %d); first: %s",
			blk.Pos, s.ID, rep.Summary.Failed, rep.Summary.Total, tolerated, firstFailure(rep.Results))
	case ctx.Err() != nil:
		rep.Status, rep.Reason = Cancelled, reasonFor(ctx)
	default:
		rep.Status = Succeeded
	}
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
func (r *run) workers(b *bound) (int, error) {
	blk := b.step.Parallel
	if blk.WorkersExpr != nil {
		v, err := blk.WorkersExpr.Eval(b.scope)
		if err != nil {
			return 0, err
		}
		n, ok := v.(int)
		if !ok || n < 1 {
			return 0, fmt.Errorf("%s: workers must be a positive integer, got %s", blk.WorkersExpr.Pos, spec.Text(v))
		}
		return n, nil
	}
	if blk.Workers > 0 {
		return blk.Workers, nil
	}
	return r.opts.Workers, nil
}
