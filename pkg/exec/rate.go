package exec

import (
	"context"
	"math"

	"golang.org/x/time/rate"

	"github.com/flowrun/flowrun/pkg/spec"
)

// gate paces the start of a parallel block's items: one token bucket that
// all of the block's workers draw from, so `rate: 200/s` holds for the
// block as a whole whatever its worker count. Open-loop load tests and
// migrations against rate-limited APIs need exactly that. A nil gate lets
// every item start at once.
type gate struct{ lim *rate.Limiter }

// newGate returns the block's gate, or nil when the block sets no rate.
func newGate(r *spec.Rate) *gate {
	if r == nil || r.PerSecond <= 0 || math.IsInf(r.PerSecond, 0) {
		return nil
	}
	return &gate{lim: rate.NewLimiter(rate.Limit(r.PerSecond), max(r.Burst, 1))}
}

// wait blocks until the next item may start and reports whether it may:
// false once ctx is done, so a cancelled block stops waiting at once.
func (g *gate) wait(ctx context.Context) bool {
	if g == nil {
		return ctx.Err() == nil
	}
	return g.lim.Wait(ctx) == nil
}
