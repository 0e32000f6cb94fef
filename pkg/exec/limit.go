package exec

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/flowrun/flowrun/pkg/spec"
)

// lookAhead bounds the items a block with limit:s takes from its source
// and holds back because their keys are saturated: past it, workers wait
// rather than read further, so that a lazy source (a range, items_from)
// stays flat in memory whatever its length.
const lookAhead = 1024

// limiter applies a parallel block's limit:s to the order in which its
// items are handed to the Dispatcher (Job.Next). It is block policy, not
// dispatch: it sits in front of any Dispatcher, so a limit holds however
// and wherever items run, across the machines of a cluster too. Its
// contract:
//
//   - Bound: an item counts against the value of each of its limit keys
//     from the moment next returns it until release is called with its
//     index (Job.Done); next never returns an item one of whose key
//     values already has its limit's max items counted.
//   - Order: next returns the lowest-index item that fits, among the
//     items held back and the next ones of the source. An item whose key
//     is saturated is held back, and the worker goes on to the next item
//     that fits instead of idling: one busy key does not stall the others.
//   - Look-ahead: at most lookAhead items are held back. When that many
//     are held and none fits, or the source is exhausted, next waits for
//     a release (or ctx) instead of reading further.
//   - Cancellation: next returns ok false once ctx is done, including
//     while it waits. Items still held are returned by drain, so that the
//     block reports them cancelled.
//
// Its methods are safe for concurrent use. next must not be called from
// the goroutine that would release the items it waits for.
type limiter struct {
	mu sync.Mutex
	// pull returns the next item of the source with the text of each of
	// its limit keys appended to keys; it records items that cannot run
	// itself. It is called with mu held.
	pull    func(lane int, keys []string) (Item, []string, bool, error)
	limits  []*keyLimit
	held    []*limited
	running map[int]*limited
	// exhausted is set once pull reported the end or an error.
	exhausted bool
	// waiting counts the next calls waiting for a release; wake is closed
	// to wake them.
	waiting int
	wake    chan struct{}
	free    []*limited
	keyBuf  []string
	// b is the block's step; vars the scope its keys are evaluated in and
	// ev the machine that evaluates them, reused from item to item under
	// mu (see keys); index is set when an expression reads it.
	b     *BoundStep
	vars  map[string]any
	ev    spec.Evaluator
	index bool
}

// limited is an item with the counts of its key values, one per limit.
type limited struct {
	it     Item
	counts []*keyCount
}

// limiter returns the block's limiter, or nil when it has no limit:s: each
// limit's max evaluated, and the item scope its keys are evaluated in.
func (r *run) limiter(b *BoundStep) (*limiter, error) {
	blk := b.step.Parallel
	if len(blk.Limits) == 0 {
		return nil, nil
	}
	maxes := make([]int, len(blk.Limits))
	for i, sl := range blk.Limits {
		maxes[i] = sl.Max
		if sl.MaxExpr == nil {
			continue
		}
		v, err := sl.MaxExpr.Eval(b.scope)
		if err != nil {
			return nil, err
		}
		n, ok := v.(int)
		if !ok || n < 1 {
			return nil, fmt.Errorf("%s: step %q: limit max must be a positive integer, got %s", sl.MaxExpr.Pos, b.step.ID, describe(v))
		}
		maxes[i] = n
	}
	l := newLimiter(blk.Limits, maxes, nil)
	l.b, l.vars = b, spec.ItemVars(b.scope, blk.As, 0, nil)
	l.index = blk.Key != nil && blk.Key.UsesIndex()
	for _, sl := range blk.Limits {
		l.index = l.index || sl.Key.UsesIndex()
	}
	return l, nil
}

// keys evaluates an item's key and its limit keys (appended to lk) in one
// scope, reused from item to item: pull calls it with mu held.
func (l *limiter) keys(i int, value any, lk []string) (string, []string, error) {
	blk := l.b.step.Parallel
	l.vars[blk.As] = value
	if l.index {
		l.vars["index"] = i // boxing an int allocates: only when read
	}
	key, err := l.b.keyIn(&l.ev, l.vars, i, value)
	if err != nil {
		return key, lk, err
	}
	for _, sl := range blk.Limits {
		v, err := sl.Key.EvalWith(&l.ev, l.vars)
		if err != nil {
			return key, lk, err
		}
		lk = append(lk, spec.Text(v))
	}
	return key, lk, nil
}

// newLimiter returns the limiter of a block's limits, with the max of
// each evaluated; pull reads the block's source.
func newLimiter(limits []*spec.Limit, maxes []int, pull func(int, []string) (Item, []string, bool, error)) *limiter {
	l := &limiter{pull: pull, running: make(map[int]*limited)}
	for i, sl := range limits {
		l.limits = append(l.limits, &keyLimit{spec: sl, max: maxes[i], live: make(map[string]*keyCount)})
	}
	return l
}

// next returns the next item that fits, as the contract above says.
func (l *limiter) next(ctx context.Context, lane int) (Item, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ctx.Err() == nil {
		for i, e := range l.held {
			if l.fits(e) {
				l.held = slices.Delete(l.held, i, i+1)
				return l.start(e), true, nil
			}
		}
		for !l.exhausted && len(l.held) < lookAhead {
			e, ok, err := l.take(lane)
			if err != nil || !ok {
				l.exhausted = true
				if err != nil {
					return Item{}, false, err
				}
				break
			}
			if l.fits(e) {
				return l.start(e), true, nil
			}
			l.hold(e)
		}
		if len(l.held) == 0 {
			return Item{}, false, nil
		}
		if l.wake == nil {
			l.wake = make(chan struct{})
		}
		wake := l.wake
		l.waiting++
		l.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
		}
		l.mu.Lock()
		l.waiting--
	}
	return Item{}, false, nil
}

// take reads the next item and counts a reference to each of its key
// values.
func (l *limiter) take(lane int) (*limited, bool, error) {
	it, keys, ok, err := l.pull(lane, l.keyBuf[:0])
	l.keyBuf = keys[:0]
	if err != nil || !ok {
		return nil, false, err
	}
	var e *limited
	if n := len(l.free); n > 0 {
		e, l.free = l.free[n-1], l.free[:n-1]
	} else {
		e = &limited{counts: make([]*keyCount, len(l.limits))}
	}
	e.it = it
	for i, k := range l.limits {
		e.counts[i] = k.ref(keys[i])
	}
	return e, true, nil
}

func (l *limiter) fits(e *limited) bool {
	for i, c := range e.counts {
		if c.running >= l.limits[i].max {
			return false
		}
	}
	return true
}

func (l *limiter) hold(e *limited) {
	for i, c := range e.counts {
		if k := l.limits[i]; c.running >= k.max {
			k.held++
		}
	}
	l.held = append(l.held, e)
}

// start counts e as running and returns its item.
func (l *limiter) start(e *limited) Item {
	for i, c := range e.counts {
		c.running++
		c.peak = max(c.peak, c.running)
		k := l.limits[i]
		k.peak = max(k.peak, c.running)
	}
	l.running[e.it.Index] = e
	return e.it
}

// release ends the count of the item at index, if next returned it, and
// wakes the waiting workers when a key value was saturated.
func (l *limiter) release(index int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.running[index]
	if !ok {
		return
	}
	delete(l.running, index)
	freed := false
	for i, c := range e.counts {
		k := l.limits[i]
		freed = freed || c.running == k.max
		c.running--
		k.unref(c)
	}
	if freed && l.wake != nil {
		// Waiting workers made wake; they wake once for every release
		// that frees a value, however many of them wait.
		close(l.wake)
		l.wake = nil
	}
	e.it = Item{}
	l.free = append(l.free, e)
}

// drain returns the items still held back, in index order, once the
// Dispatcher has returned.
func (l *limiter) drain() []Item {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Item, len(l.held))
	for i, e := range l.held {
		out[i] = e.it
		for j, c := range e.counts {
			l.limits[j].unref(c)
		}
	}
	l.held = nil
	return out
}

// summary returns the limits as they ran.
func (l *limiter) summary() []spec.LimitSummary {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]spec.LimitSummary, len(l.limits))
	for i, k := range l.limits {
		for _, c := range k.live {
			k.retire(c)
		}
		keys := make([]spec.KeyPeak, len(k.top))
		for j, t := range k.top {
			keys[j] = spec.KeyPeak{Key: t.shown, Peak: t.peak}
		}
		slices.SortFunc(keys, func(a, b spec.KeyPeak) int {
			if a.Peak != b.Peak {
				return b.Peak - a.Peak
			}
			return cmp.Compare(a.Key, b.Key)
		})
		out[i] = spec.LimitSummary{Key: k.spec.Source(), Max: k.max, Peak: k.peak, Held: k.held, Keys: keys}
	}
	return out
}
