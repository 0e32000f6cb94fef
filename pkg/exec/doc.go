// Package exec runs loaded workflows: it schedules the DAG so that a step
// starts as soon as its dependencies succeeded, and runs every parallel
// block as a fork-join pool of workers.
//
// A run goes through these seams, each one type with its contract in its
// doc comment:
//
//   - spec.Scope (pkg/spec): what expressions read — inputs, env,
//     steps.<id>, run — built once per step, plain data that can be sent
//     as JSON.
//   - ItemRunner (runner.go): runs one item of a compiled step from (step,
//     Scope, Item{Index, Key, Value}) — retries, timeouts, output format,
//     panics — with no scheduling state; what a cluster worker calls.
//   - Dispatcher (dispatch.go): where a block's items run, at most
//     `workers` at once, in index order. The local pool is the default;
//     the block's policy (parallel.go: keys, rate and duration, limits
//     per key (limit.go), tolerance, fail-fast, status, summary) stays
//     above it.
//   - Recorder (recorder.go): told of every final item, step and run
//     result besides the report, so that a journal or a results file can
//     keep them; a failure to record fails the run.
//   - Restorer (restore.go): for a resumed run, what earlier attempts
//     recorded; single steps and items (by key, in the block's Job.Next)
//     that succeeded then are restored, not run.
//
// The rules it keeps are the workflow format's: the first failure that is
// not tolerated cancels all remaining work (fail-fast) but for the steps
// whose if: calls a status function; cancelled work is reported as
// cancelled, never as failed; a step not started because of its
// dependencies is skipped, decided from their final statuses alone
// (status.go); results are aligned with their items whatever order they
// finished in; finally steps always run; outputs are evaluated on any run.
package exec
