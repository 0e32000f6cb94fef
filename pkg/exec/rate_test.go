package exec

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/flowrun/flowrun/pkg/spec"
)

// cancelAfter cancels the run once n items have finished.
type cancelAfter struct {
	n        int64
	finished atomic.Int64
	cancel   context.CancelFunc
}

func (c *cancelAfter) StepStarted(*spec.Step, int)          {}
func (c *cancelAfter) StepFinished(*spec.Step, *StepReport) {}
func (c *cancelAfter) ItemFinished(*spec.Step, *ItemResult) {
	if c.finished.Add(1) == c.n {
		c.cancel()
	}
}

func TestRateHoldsItemsBackAndWaitingHonoursCancel(t *testing.T) {
	// A bucket of 2 tokens refilled once an hour: two items start at once,
	// the others wait for a token until the run is cancelled, and are
	// then reported as cancelled, never started.
	wf := load(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 1..6 }}", workers: 6, rate: {limit: 1/h, burst: 2}}
    probe: {out: "${{ item }}"}
`)
	resetProbes()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep := Run(ctx, wf, Options{Observer: &cancelAfter{n: 2, cancel: cancel}})
	s := rep.Step("fan").Summary
	if s.Succeeded != 2 || s.Cancelled != 4 || s.Failed != 0 {
		t.Errorf("summary %+v; want 2 succeeded and 4 cancelled while waiting for the rate", s)
	}
	if got := probes.peak.Load(); got > 2 {
		t.Errorf("%d items ran at once; want at most the burst, 2", got)
	}
}

func TestRateLetsEveryItemRun(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 1..20 }}", workers: 4, rate: 100000/s}
    probe: {out: "${{ item }}"}
`, Options{})
	if s := rep.Step("fan").Summary; s.Succeeded != 20 {
		t.Errorf("summary %+v; want all 20 items to succeed", s)
	}
}
