package exec

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// call is the step a `uses:` step runs: the called workflow, run as a
// workflow of its own once per item. It goes through the same item path as
// any step, so retries, timeouts, panics and a parallel block's fail-fast
// apply to a call as they do to an http request.
//
// The callee was loaded and checked with its caller (spec.Step.Callee),
// once per run whatever the number of items. Each call is a sub-run under
// the item's context: cancelling the item cancels the callee's steps, and
// the callee's finally steps run all the same, but within the item's
// bounds like any step: calleeFinallyGrace after the item's timeout or
// cancellation (the first interrupt) they are cancelled too. The sub-run
// shares the caller's steps.Resources, so its http steps reuse the
// caller's connections.
type call struct {
	ir    *ItemRunner
	step  *spec.Step
	bound *BoundStep // gives each item's scope, the step's env: in it
}

// Run evaluates with: for the item, resolves the callee's inputs, runs it
// and returns its outputs.
func (c *call) Run(ctx context.Context, in *steps.Input) (any, error) {
	s, callee := c.step, c.step.Callee
	with := map[string]any{}
	if s.With != nil {
		sc, _, err := c.bound.actionScope(in.Index, in.Item)
		if err != nil {
			return nil, steps.Permanent(err)
		}
		v, err := s.With.Eval(sc)
		if err != nil {
			return nil, steps.Permanent(err)
		}
		m, ok := v.(map[string]any)
		if !ok && v != nil {
			return nil, steps.Permanent(fmt.Errorf("with: must be a mapping of inputs, got %s", describe(v)))
		}
		with = m
	}
	inputs, err := callee.ResolveTyped(with)
	if err != nil {
		return nil, steps.Permanent(fmt.Errorf("with: %s", strings.ReplaceAll(err.Error(), "\n", "; ")))
	}
	environ := in.Env
	if in.Index >= 0 {
		// The callee's steps run for the calling item: they see its key.
		environ = append(slices.Clip(environ), EnvItemKey+"="+in.Key)
	}
	opts := Options{
		Inputs:    inputs,
		Workers:   c.ir.Workers,
		Log:       in.Log,
		Kill:      in.Kill,
		Environ:   environ,   // the caller's environment and the step's env:
		Mask:      c.ir.Mask, // the callee's secrets are masked for the caller too
		shared:    in.Resources,
		called:    true,
		MaxParsed: c.ir.MaxParsed,
		claims:    c.ir.claims,
		chain:     append(slices.Clip(c.ir.chain), spec.CallSite{WF: c.ir.wf, Step: s, Item: in.Index}),
	}
	if in.Index < 0 && c.ir.origin != nil {
		// A single step: the callee's blocks go where the caller's go.
		opts.Dispatcher = c.ir.dispatcher
		opts.origin = c.ir.origin.callee(s.ID, c.ir.Environ, in.Env)
	}
	rep := Run(ctx, callee, opts)
	// An item that timed out or was cancelled while its callee's finally
	// steps ran did not complete, whatever the callee's status says.
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	if rep.Status == Succeeded {
		return rep.Outputs, nil
	}
	return nil, fmt.Errorf("%s -> %s: %s", c.ir.File, callee.File, rep.Error)
}

// calleeFinallyGrace is how long a called workflow's finally steps may
// still run once the calling item has timed out or been cancelled: enough
// to start and clean up, not enough to hold a run that was asked to stop.
const calleeFinallyGrace = 2 * time.Second

// finallyStop returns the channel that stops a run's finally steps: Kill
// (the second interrupt) for a top-level run; for a called workflow also
// ctx, the calling item's context, calleeFinallyGrace after it is done.
// Its goroutine, if any, ends when done is closed.
func finallyStop(ctx context.Context, opts Options, done <-chan struct{}) <-chan struct{} {
	if !opts.called {
		return opts.Kill
	}
	stop := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-opts.Kill:
			close(stop)
			return
		case <-done:
			return
		}
		t := time.NewTimer(calleeFinallyGrace)
		defer t.Stop()
		select {
		case <-t.C:
			close(stop)
		case <-opts.Kill:
			close(stop)
		case <-done:
		}
	}()
	return stop
}

// callWidth is how many items a uses step may have in flight: its own
// workers times those of the workflow it calls.
func callWidth(s *spec.Step, def int, opts Options) int {
	own := 1
	if b := s.Parallel; b != nil {
		own = def
		if b.Workers > 0 {
			own = b.Workers
		}
	}
	return own * maxWorkers(s.Callee, opts, nil)
}

var _ steps.Step = (*call)(nil)
