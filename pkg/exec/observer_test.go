package exec

import (
	"sync/atomic"
	"testing"

	"github.com/flowrun/flowrun/pkg/spec"
)

// countingObserver counts the items started and finished.
type countingObserver struct{ started, finished atomic.Int64 }

func (o *countingObserver) StepStarted(*spec.Step, int)          {}
func (o *countingObserver) ItemStarted(*spec.Step, int)          { o.started.Add(1) }
func (o *countingObserver) ItemFinished(*spec.Step, *ItemResult) { o.finished.Add(1) }
func (o *countingObserver) StepFinished(*spec.Step, *StepReport) {}

func TestItemStarterIsToldOfEveryStartedItem(t *testing.T) {
	obs := new(countingObserver)
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 1..50 }}", workers: 4}
    probe: {fail: "${{ item == 30 }}"}
`, Options{Observer: obs})
	if st := rep.Step("fan").Status; st != Failed {
		t.Fatalf("status %s; want failed", st)
	}
	if s, f := obs.started.Load(), obs.finished.Load(); s != f || s < 30 || s > 50 {
		t.Errorf("started %d, finished %d items; want the same count, between 30 and 50", s, f)
	}
}
