package exec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/stepjson"
	"github.com/flowrun/flowrun/pkg/steps"
)

// runSingle runs a step that is not a parallel block: one item, no item
// variable.
// prior counts the tries of earlier attempts at the run (Restorer).
func (r *run) runSingle(ctx context.Context, b *BoundStep, rep *StepReport, prior int) {
	if obs := r.opts.Observer; obs != nil {
		obs.StepStarted(b.step, -1)
	}
	var res ItemResult
	b.Run(ctx, Item{Index: -1, Attempts: prior}, &res)
	rep.Status, rep.Output, rep.Attempts = res.Status, res.Output, res.Attempts
	if res.Status == Failed {
		rep.Error = res.Error
	}
	if res.Status == Cancelled {
		rep.Reason = reasonFor(ctx)
	}
}

// Run runs one item, with its retries and timeouts, and fills res. The
// item's key is it.Key: keys are evaluated before dispatch (Key). It never
// panics: a panic in the step becomes the item's error. Run may be called
// from many goroutines at once.
func (b *BoundStep) Run(ctx context.Context, it Item, res *ItemResult) {
	s, ir := b.step, b.ir
	// Offsets from the run's start read only the monotonic clock.
	start := time.Since(ir.Start)
	res.Index, res.Key = it.Index, it.Key
	res.OffsetMS = ms(start)
	defer func() {
		end := time.Since(ir.Start)
		res.DurationMS = ms(end - start)
		if !it.Due.IsZero() {
			res.LatencyMS = ms(end - min(it.Due.Sub(ir.Start), start))
		}
	}()
	st, env, vars, err := b.instance(it)
	if err != nil {
		res.Status, res.Error = Failed, b.itemError(res, err)
		return
	}
	// The Input and the log writer are recycled across items: a step
	// does not keep its Input once Run returns.
	is := itemStates.Get().(*itemState)
	log := &is.log
	*log = prefixWriter{out: ir.log(), mask: ir.Mask, id: s.ID, index: it.Index, buf: log.buf[:0]}
	if s.Parallel != nil && ir.QuietItems {
		log.out = nil
	}
	defer func() {
		log.Flush()
		res.LogTail = log.takeTail(res.Status == Failed)
		is.in = steps.Input{}
		itemStates.Put(is)
	}()
	in := &is.in
	*in = steps.Input{StepID: s.ID, Index: it.Index, Key: it.Key, Item: it.Value, Env: env, Vars: vars, Dir: ir.Dir, Log: log, Resources: ir.Resources, Mask: ir.Mask, Kill: ir.Kill, OutputUnread: b.unread, OutputDiscarded: b.discarded, MaxParsed: ir.maxParsed()}
	defer func() { res.Code, res.ErrorKind = in.Outcome.Code, in.Outcome.Kind }()
	for attempt := 1; ; attempt++ {
		in.Attempt = attempt
		res.Attempts = it.Attempts + attempt
		in.Outcome = steps.Outcome{}
		out, err := attemptOnce(ctx, s.Timeout, st, in)
		if err != nil && in.Outcome.Kind == "" && isTimeout(err) {
			in.Outcome.Kind = steps.KindTimeout
		}
		if o, ok := out.(stepjson.Output); ok && err == nil {
			if b.unread {
				// Written as its JSON: kept as the output's encoding,
				// not encoded and checked again (stepjson makes
				// nothing else).
				res.Status, res.Output, res.outJSON = Succeeded, json.RawMessage(o.Bytes()), o.Bytes()
				return
			}
			// Read by expressions: its values, as if the step had
			// returned them.
			out, err = steps.DecodeJSON(bytes.NewReader(o.Bytes()))
		}
		if err == nil {
			out, err = parseOutput(out, s.Output, ir.maxParsed())
			if err == nil {
				res.Status, res.Output = Succeeded, out
				return
			}
			err = steps.Permanent(err)
		}
		if ctx.Err() != nil {
			res.Status, res.Error = Cancelled, ""
			return
		}
		if steps.IsPermanent(err) || attempt >= s.Retry.Attempts {
			res.Status, res.Error = Failed, b.itemError(res, err)
			return
		}
		if !sleep(ctx, backoff(s.Retry, attempt)) {
			res.Status = Cancelled
			return
		}
	}
}

// itemState is what running one item needs besides its result, pooled.
type itemState struct {
	in  steps.Input
	log prefixWriter
}

var itemStates = sync.Pool{New: func() any { return new(itemState) }}

func logPrefix(id string, index int) string {
	if index < 0 {
		return "[" + id + "] "
	}
	return "[" + id + "#" + strconv.Itoa(index) + "] "
}

// attemptOnce runs the step once under the step's timeout.
func attemptOnce(ctx context.Context, timeout time.Duration, st steps.Step, in *steps.Input) (out any, err error) {
	actx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeoutCause(ctx, timeout, errTimeout)
		defer cancel()
	}
	defer func() {
		if p := recover(); p != nil {
			err = steps.Permanent(fmt.Errorf("panic: %v\n%s", p, debug.Stack()))
		}
	}()
	out, err = st.Run(actx, in)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(actx), errTimeout) {
		err = &timedOut{fmt.Errorf("timed out after %s: %w", timeout, err)}
	}
	return out, err
}

var errTimeout = errors.New("step timeout")

// timedOut is the error of an attempt the step's timeout: ended.
type timedOut struct{ error }

func (e *timedOut) Unwrap() error { return e.error }

func isTimeout(err error) bool {
	var to *timedOut
	return errors.As(err, &to)
}

// itemError renders an item's error with its origin: position, step, item.
func (b *BoundStep) itemError(res *ItemResult, err error) string {
	s := b.step
	if res.Index < 0 {
		return fmt.Sprintf("%s: step %q: %v", s.TypePos, s.ID, err)
	}
	return fmt.Sprintf("%s: step %q item %d (key %q): %v", s.TypePos, s.ID, res.Index, res.Key, err)
}

// backoff is the wait before retry number attempt: exponential, capped,
// with jitter (a random point in the upper half) so that many failing
// items do not retry in lockstep.
func backoff(rt spec.Retry, attempt int) time.Duration {
	d := rt.Backoff
	for i := 1; i < attempt && d < rt.MaxBackoff; i++ {
		d *= 2
	}
	if rt.MaxBackoff > 0 && d > rt.MaxBackoff {
		d = rt.MaxBackoff
	}
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return string(bytes.ToValidUTF8([]byte(s[:n]), nil)) + "…"
}
