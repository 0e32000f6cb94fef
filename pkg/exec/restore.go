package exec

import (
	"fmt"
	"time"

	"github.com/flowrun/flowrun/pkg/spec"
)

// Restorer hands a resumed run what earlier attempts at the same run
// recorded (a journal), so that work that succeeded then is not done
// again. The run asks; the Restorer only answers, it never runs anything.
//
// Its contract:
//
//   - Step is asked once for every single step (not a parallel block)
//     that is about to run, its dependencies done and its if: true. When
//     the answer says Succeeded and the step is not a finally step, the
//     step does not run: its report is the restored result (status
//     succeeded, Output, Attempts) with Restored set, and steps that read
//     it see that output. Otherwise the step runs, and its attempts count
//     on from Attempts. Finally steps always run.
//   - Item is asked for every item of a parallel block, from the block's
//     Job.Next, once its key is evaluated and before it is dispatched;
//     it may be called from many goroutines at once. When the answer says
//     Succeeded the item is not dispatched: its result (index and key of
//     the item now, status succeeded, Output, Attempts, DurationMS) is
//     recorded by Next with Restored set, like any result — results,
//     outputs and summary then describe the whole block as if one run
//     had done it all. Otherwise the item runs, and its attempts count on
//     from Attempts (Item.Attempts carries them to wherever it runs).
//   - An error stops the step (or the block, as a source error would):
//     what was recorded cannot be trusted, so nothing is guessed.
//
// The Recorder of a resumed run sees restored results like any other, with
// Restored set: a journal skips them, as it holds them already.
type Restorer interface {
	Step(s *spec.Step) (Restored, error)
	Item(s *spec.Step, key string) (Restored, error)
}

// Restored is what earlier attempts at a run recorded of a step or an item.
type Restored struct {
	// Succeeded is set when it succeeded: then Output and DurationMS are
	// its result.
	Succeeded  bool
	Output     any
	DurationMS float64
	// Attempts counts the tries earlier attempts made.
	Attempts int
}

// restoreStep asks the Restorer about single step s. It reports whether
// the step was restored, in which case rep is final; else it returns the
// attempts to count on from.
func (r *run) restoreStep(s *spec.Step, rep *StepReport) (bool, int) {
	rst := r.opts.Restorer
	if rst == nil {
		return false, 0
	}
	prev, err := rst.Step(s)
	if err != nil {
		rep.Status, rep.Error = Failed, fmt.Sprintf("%s: step %q: resuming: %v", s.Pos, s.ID, err)
		rep.StartedAt = time.Now()
		return true, 0
	}
	if !prev.Succeeded || s.Finally {
		return false, prev.Attempts
	}
	// It did not start in this attempt: no start time, no duration.
	rep.Status, rep.Output, rep.Attempts, rep.Restored = Succeeded, prev.Output, prev.Attempts, 1
	return true, 0
}

// restoredItem is the result of the item at index i with key that
// succeeded in an earlier attempt, as prev describes it.
func restoredItem(res *ItemResult, i int, key string, prev Restored) {
	*res = ItemResult{Index: i, Key: key, Status: Succeeded, Output: prev.Output, Attempts: prev.Attempts, DurationMS: prev.DurationMS, Restored: true}
}
