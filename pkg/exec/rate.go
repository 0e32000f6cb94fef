package exec

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/flowrun/flowrun/pkg/spec"
)

// gate paces the start of a parallel block's items: one token bucket that
// all of the block's workers draw from, so `rate: 200/s` holds for the
// block as a whole whatever its worker count. Open-loop load tests and
// migrations against rate-limited APIs need exactly that. A nil gate lets
// every item start at once.
//
// It also keeps the block's schedule, for latency that does not hide a
// stalled system (coordinated omission, as wrk2 and vegeta avoid it): the
// k-th item to start was due at the block's first start plus k intervals
// of the rate, whether or not a worker was free to take it then. When all
// workers are busy the bucket cannot hold more than its burst, items start
// late, and their latency, measured from when they were due, says so.
type gate struct {
	lim    *rate.Limiter
	perSec float64

	mu          sync.Mutex
	first, last time.Time // the first and the latest start
	started     int64
}

// newGate returns the block's gate, or nil when the block sets no rate.
func newGate(r *spec.Rate) *gate {
	if r == nil || r.PerSecond <= 0 || math.IsInf(r.PerSecond, 0) {
		return nil
	}
	return &gate{lim: rate.NewLimiter(rate.Limit(r.PerSecond), max(r.Burst, 1)), perSec: r.PerSecond}
}

// waitUntil blocks until the next item may start and reports whether it
// may: false once ctx is done, so a cancelled block stops waiting at once,
// and false when its turn comes after deadline (if not zero), at once. due
// is when the item was due by the block's schedule; zero without a gate.
func (g *gate) waitUntil(ctx context.Context, deadline time.Time) (due time.Time, ok bool) {
	if g == nil {
		return time.Time{}, ctx.Err() == nil
	}
	if !deadline.IsZero() {
		// rate.Limiter.Wait fails at once when the wait would pass the
		// context's deadline.
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	if g.lim.Wait(ctx) != nil {
		return time.Time{}, false
	}
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.started == 0 {
		g.first = now
	}
	due = g.first.Add(time.Duration(float64(g.started) / g.perSec * float64(time.Second)))
	g.started++
	g.last = now
	return due, true
}

// achieved is the rate at which items started: the starts after the
// first burst (which the bucket lets through at once) over the time they
// took. It is 0 before two items started.
func (g *gate) achieved() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.started < 2 || !g.last.After(g.first) {
		return 0
	}
	paced := g.started - 1
	if b := int64(g.lim.Burst()); g.started > b {
		paced = g.started - b
	}
	return float64(paced) / g.last.Sub(g.first).Seconds()
}
