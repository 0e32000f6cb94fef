package exec

import (
	"fmt"

	"github.com/flowrun/flowrun/pkg/spec"
)

// checkKept returns an error when an expression reads more of a parallel
// block than the block kept in memory: its outputs when it kept only its
// failures, or its results when it kept only failures because it ran more
// items than results: all keeps by default (an expression expecting every
// item would silently see a few). who names the reader in the error.
func (r *run) checkKept(who string, exprs []*spec.Expr) error {
	for _, x := range exprs {
		for _, ref := range x.Reads {
			sr := r.steps[ref.ID]
			if sr == nil || sr.report.ResultsKept == "" || sr.step.Parallel == nil {
				continue
			}
			blk := sr.step.Parallel
			switch {
			case ref.Field == "outputs":
			case ref.Field == "results" && !blk.ResultsSet:
			default:
				continue
			}
			why := "results: failures"
			fix := fmt.Sprintf("set results: all on it, or read steps.%s.results (its failed items) or steps.%s.summary", ref.ID, ref.ID)
			if !blk.ResultsSet {
				why = fmt.Sprintf("it ran %d items and results: all (the default) keeps %d; beyond that only failures are kept",
					sr.report.Summary.Total, r.opts.hooks.keptLimit())
				fix = "set results: all on it explicitly to keep every result, or results_file to stream them to a file"
			}
			if rf := blk.ResultsFile; rf != nil {
				fix += "; every result is in " + rf.File
			}
			return fmt.Errorf("%s: %s reads steps.%s.%s, but step %q kept only its failed items (%s): %s",
				x.Pos, who, ref.ID, ref.Field, ref.ID, why, fix)
		}
	}
	return nil
}
