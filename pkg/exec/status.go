package exec

import (
	"context"
	"fmt"

	"github.com/flowrun/flowrun/pkg/spec"
)

// The status rule: what becomes of a step once every one of its
// dependencies is done. It reads only the dependencies' final statuses,
// never how their ends interleaved with a failure elsewhere, so the same
// failing workflow ends with the same statuses and reasons every time.
//
//   - A step whose if: calls no status function (an implicit success())
//     runs when every dependency succeeded and no step upstream failed or
//     was cancelled. Otherwise it is skipped, the reason naming the
//     dependency: one that failed, else one that was skipped, else one
//     that was cancelled, else the step upstream that failed or was
//     cancelled (behind a dependency that ran through always()).
//   - A step whose if: calls always(), success(), failure() or cancelled()
//     is evaluated whatever became of its dependencies, and reads them all.
//     In a main step success() is the rule above, failure() is true when a
//     step upstream (its dependencies, theirs, and so on) failed,
//     cancelled() when the run was interrupted. In a finally step they
//     describe the main steps: success(), failure() and cancelled() when
//     they succeeded, failed or were cancelled. always() is true.
//   - A step that would run (its dependencies allow it, its if: is true)
//     but whose context is done is cancelled: it was ready when the run
//     failed fast or was interrupted. Only such steps, and work that was
//     running, are cancelled.
//
// Contexts: a failure that is not tolerated cancels the context of the
// steps of its list (fail-fast), an interrupt the run's. A step whose if:
// calls failure() handles failures, so fail-fast does not stop it (an
// interrupt does); one whose if: calls always() or cancelled() is stopped
// by neither, like a finally step: only the second interrupt (Kill), or,
// in a workflow called by uses:, the end of the calling item's grace.

// stepContext returns the context step s runs under: failCtx (cancelled
// by fail-fast and by an interrupt), outer (by an interrupt only) or
// detached (by neither), according to the status functions its if: calls.
func stepContext(s *spec.Step, failCtx, outer, detached context.Context) context.Context {
	f := s.StatusFuncs()
	switch {
	case f&(spec.CallsAlways|spec.CallsCancelled) != 0:
		return detached
	case f&spec.CallsFailure != 0:
		return outer
	}
	return failCtx
}

// needsDetached reports whether a step of list runs under a detached
// context.
func needsDetached(list []*spec.Step) bool {
	for _, s := range list {
		if s.StatusFuncs()&(spec.CallsAlways|spec.CallsCancelled) != 0 {
			return true
		}
	}
	return false
}

// inList reports whether dep belongs to the same list as sr (main or
// finally): a finally step's dependencies on main steps are always
// satisfied, and are not upstream of it for the status rule.
func inList(sr, dep *stepRun) bool { return sr.step.Finally == dep.step.Finally }

// blocked returns why step sr may not run under the implicit success(),
// naming the dependency, or "" when it may. Its dependencies are done.
func (r *run) blocked(sr *stepRun) string {
	for _, want := range []Status{Failed, Skipped, Cancelled} {
		for _, d := range sr.step.Deps {
			dep := r.steps[d.ID]
			if d.Order || !inList(sr, dep) || dep.report.Status != want {
				continue
			}
			switch want {
			case Failed:
				return fmt.Sprintf("dependency %q failed", d.ID)
			case Skipped:
				return fmt.Sprintf("dependency %q was skipped", d.ID)
			}
			return fmt.Sprintf("dependency %q was cancelled", d.ID)
		}
	}
	if id := r.upstream(sr, func(dep *stepRun) string { return dep.failedUp }); id != "" {
		return fmt.Sprintf("step %q upstream failed", id)
	}
	if id := r.upstream(sr, func(dep *stepRun) string { return dep.cancelledUp }); id != "" {
		return fmt.Sprintf("step %q upstream was cancelled", id)
	}
	return ""
}

// upstream returns the first non-empty of(dep) over sr's dependencies in
// its list, in the order of its needs; a dependency on the order only
// (spec.Dep.Order) is not upstream.
func (r *run) upstream(sr *stepRun, of func(*stepRun) string) string {
	return r.upstreamOf(sr, of, false)
}

// upstreamOf is upstream, over the dependencies on the order too when
// order: what failure() sees of the steps a whole-steps read waited for.
func (r *run) upstreamOf(sr *stepRun, of func(*stepRun) string, order bool) string {
	for _, d := range sr.step.Deps {
		if dep := r.steps[d.ID]; (order || !d.Order) && inList(sr, dep) {
			if id := of(dep); id != "" {
				return id
			}
		}
	}
	return ""
}

// statusState is what the status functions answer for step sr, whose
// dependencies are done; interrupted tells whether the run was.
func (r *run) statusState(sr *stepRun, interrupted bool) spec.StatusState {
	if sr.step.Finally {
		return spec.StatusState{Success: r.status == Succeeded, Failure: r.status == Failed, Cancelled: r.status == Cancelled}
	}
	failure := r.upstreamOf(sr, func(dep *stepRun) string { return dep.failedUp }, true) != ""
	return spec.StatusState{
		Success:   r.blocked(sr) == "" && !failure,
		Failure:   failure,
		Cancelled: interrupted,
	}
}

// settle records, before the step's done channel is closed, the steps at
// or upstream of it that failed and were cancelled, for the steps
// downstream.
func (r *run) settle(sr *stepRun) {
	switch sr.report.Status {
	case Failed:
		sr.failedUp = sr.step.ID
	case Cancelled:
		sr.cancelledUp = sr.step.ID
	}
	if sr.failedUp == "" {
		// Through the steps a whole-steps read waited for too, as
		// failure() sees them.
		sr.failedUp = r.upstreamOf(sr, func(dep *stepRun) string { return dep.failedUp }, true)
	}
	if sr.cancelledUp == "" {
		sr.cancelledUp = r.upstream(sr, func(dep *stepRun) string { return dep.cancelledUp })
	}
}
