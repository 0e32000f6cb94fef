package exec

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/flowrun/flowrun/pkg/spec"
)

// runBlock runs a parallel block: a fork-join pool of workers over the
// block's items.
//
// The pool is a fixed set of `workers` goroutines in one errgroup that
// take item indexes from an atomic counter, so items are dispatched in
// index order and never more than `workers` run at once. Each result is
// written to its own slot of a slice allocated up front: no ordering by
// completion, no lock on the hot path. A failure beyond max_failures
// with on_error: cancel returns an error from its worker, which cancels
// the errgroup's context: items not yet taken are never started, running
// ones see their context cancelled. (BenchmarkPool compares this with a
// goroutine per item under errgroup.SetLimit.)
func (r *run) runBlock(ctx context.Context, b *bound, rep *StepReport) {
	s, blk := b.step, b.step.Parallel
	start := time.Now()
	items, err := r.items(b)
	if err != nil {
		rep.Status, rep.Error = Failed, err.Error()
		return
	}
	n := items.Len()
	workers, err := r.workers(b)
	if err != nil {
		rep.Status, rep.Error = Failed, err.Error()
		return
	}
	if obs := r.opts.Observer; obs != nil {
		obs.StepStarted(s, n)
	}
	results := make([]ItemResult, n)
	tolerated := blk.Tolerated(n)
	cancelOnError := blk.OnError == spec.OnErrorCancel
	var next, failures atomic.Int64
	obs := r.opts.Observer
	starter, _ := obs.(ItemStarter)
	pace := newGate(blk.Rate)

	g, gctx := errgroup.WithContext(ctx)
	for range min(workers, n) {
		g.Go(func() error {
			for gctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return nil
				}
				if !pace.wait(gctx) {
					return nil // cancelled while waiting: the item never starts
				}
				res := &results[i]
				if starter != nil {
					starter.ItemStarted(s, i)
				}
				r.runItem(gctx, b, i, items.At(i), res)
				if obs != nil {
					obs.ItemFinished(s, res)
				}
				if res.Status == Failed && failures.Add(1) > int64(tolerated) && cancelOnError {
					return &blockError{res: res}
				}
			}
			return nil
		})
	}
	err = g.Wait()

	ptrs := make([]*ItemResult, n)
	for i := range results {
		res := &results[i]
		if res.Status == Pending {
			// Never started: the block or the run was cancelled first.
			res.Index, res.Key, res.Status = i, "", Cancelled
		}
		ptrs[i] = res
	}
	rep.Results = ptrs
	rep.Summary = summarize(ptrs, min(workers, max(n, 1)), time.Since(start))
	var be *blockError
	switch {
	case errors.As(err, &be):
		rep.Status = Failed
		rep.Error = be.res.Error
		if tolerated > 0 {
			rep.Error = fmt.Sprintf("%s (more than max_failures %d)", rep.Error, tolerated)
		}
	case rep.Summary.Failed > tolerated:
		rep.Status = Failed
		rep.Error = fmt.Sprintf("%s: step %q: %d of %d items failed (max_failures %d); first: %s",
			blk.Pos, s.ID, rep.Summary.Failed, n, tolerated, firstFailure(ptrs))
	case ctx.Err() != nil:
		rep.Status, rep.Reason = Cancelled, reasonFor(ctx)
	default:
		rep.Status = Succeeded
	}
}

type blockError struct{ res *ItemResult }

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

// itemList gives random access to a block's items without copying a
// typed list (such as the []int of a range) into []any.
type itemList interface {
	Len() int
	At(i int) any
}

type anyList []any

func (l anyList) Len() int     { return len(l) }
func (l anyList) At(i int) any { return l[i] }

type reflectList struct{ v reflect.Value }

func (l reflectList) Len() int     { return l.v.Len() }
func (l reflectList) At(i int) any { return l.v.Index(i).Interface() }

// items evaluates the block's items.
func (r *run) items(b *bound) (itemList, error) {
	blk := b.step.Parallel
	var v any
	var err error
	pos := blk.Pos
	if blk.List != nil {
		v, err = blk.List.Eval(b.scope)
	} else {
		v, err = blk.Expr.Eval(b.scope)
		pos = blk.Expr.Pos
	}
	if err != nil {
		return nil, err
	}
	var list itemList
	switch x := v.(type) {
	case []any:
		list = anyList(x)
	default:
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			return nil, fmt.Errorf("%s: step %q: items must be a list, got %s", pos, b.step.ID, describe(v))
		}
		list = reflectList{rv}
	}
	if list.Len() > blk.MaxItems {
		return nil, fmt.Errorf("%s: step %q: %d items exceed max_items %d; raise max_items if this is intended", pos, b.step.ID, list.Len(), blk.MaxItems)
	}
	return list, nil
}

func describe(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("%T %s", v, spec.Text(v))
}
