// Package exec runs loaded workflows: it binds each step to its step type,
// schedules the DAG so that a step starts as soon as its dependencies
// succeeded, and runs every parallel block as a fork-join pool of workers.
//
// The rules it keeps are the workflow format's: the first failure that is
// not tolerated cancels all remaining work (fail-fast); cancelled work is
// reported as cancelled, never as failed; results are aligned with their
// items whatever order they finished in; finally steps always run.
package exec
