package exec

import "github.com/flowrun/flowrun/pkg/spec"

// Recorder is told of a run's results as they become final, so that they
// can be kept outside the run: a journal to resume from, a results file.
// Unlike an Observer, which only watches, a Recorder can fail the run: a
// result it could not record must not be reported as kept.
//
// Its contract:
//
//   - ItemDone is called once for every finished item of a parallel block
//     (succeeded, failed, cancelled, including items that never ran), after
//     the Observer and before the item counts towards the block's
//     tolerance. It may be called from many goroutines at once, must return
//     quickly, and must not keep res (copy what it keeps). An error fails
//     the block, as a failed results_file does.
//   - StepDone is called once for every step, parallel or not, when its
//     report is final, including steps that were skipped or cancelled
//     without running. An error fails the step if it had succeeded.
//   - RunDone is called once, last, with the run's final report. An error
//     fails the run if it had succeeded.
//
// Results restored from earlier attempts at the run (see Restorer) enter a
// block through Job.Next, which records them without dispatching them; a
// Recorder sees them like any other result, with ItemResult.Restored (or
// StepReport.Restored for a single step) set.
type Recorder interface {
	ItemDone(s *spec.Step, res *ItemResult) error
	StepDone(s *spec.Step, rep *StepReport) error
	RunDone(rep *Report) error
}

// BlockStarter is a Recorder that is also told when a parallel block
// starts, before its first item, with its item count (-1 when only the
// end tells: items_from). An error fails the block before any item runs.
type BlockStarter interface {
	BlockStarted(s *spec.Step, items int) error
}
