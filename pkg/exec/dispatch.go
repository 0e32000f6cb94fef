package exec

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/flowrun/flowrun/pkg/spec"
)

// Dispatcher runs the items of parallel blocks: in this process (the local
// pool, the default) or elsewhere (workers of a cluster). The block's
// policy — tolerance, fail-fast, status, summary — stays above it, in
// runBlock, so a block behaves the same wherever its items run.
//
// Dispatch runs the items job.Next yields until it yields no more, then
// returns nil once every item it took has been handed to job.Done. Its
// contract:
//
//   - Order and bound: items are taken from Next one at a time, as
//     capacity frees up; never more than job.Workers run at once. Next
//     yields them in index order, except that the block's limit:s may hold
//     an item back and yield later ones first (see limits below): indices
//     are unique, not always increasing.
//   - Lanes: every Next, Result and Done call carries a lane, 0 <=
//     lane < job.Workers; calls with the same lane never overlap, so the
//     block tallies results per lane without a lock.
//   - Results: an item's result is written into job.Result(lane,
//     it.Index) and handed to job.Done(lane, res) exactly once, whatever
//     order items finish in; res is not used after Done returns.
//   - Errors: an error from Next or Done stops the block: no further item
//     is taken, the context of the items running is cancelled, and
//     Dispatch returns that error once they have been handed to Done.
//   - Cancellation: once ctx is done no item starts; running items see
//     their context cancelled and are handed to Done with their status
//     (cancelled, unless they finished). Dispatch returns nil.
//   - Limits: the block's limit:s (at most max items with one key value
//     running at once) are applied by Next and Done, before items reach
//     the Dispatcher, so they hold wherever items run — across the
//     machines of a cluster too — with nothing for a Dispatcher to do but
//     keep this contract: an item counts against its keys from the moment
//     Next returns it until it is handed to Done. So a Dispatcher takes an
//     item from Next only when it is about to run it (one that queues
//     items ahead, such as a work-queue stream, queues no more than it has
//     room to run), and Next may block until another item is handed to
//     Done: Done must be called for finished items while a call to Next
//     waits, from another goroutine than the waiting one.
//
// Items a Dispatcher does not run itself (a remote one) reach it as Items:
// index, key and value; job.Step and job.Scope are what a worker needs,
// with an ItemRunner, to run them. A block with `remote: false` never
// reaches the run's Dispatcher: it runs in the local pool.
type Dispatcher interface {
	Dispatch(ctx context.Context, job *Job) error
}

// Job is one parallel block's work as the block policy hands it to a
// Dispatcher. See Dispatcher for the contract of its callbacks.
type Job struct {
	// Step is the compiled step; Step.ID names it to a remote worker.
	Step *spec.Step
	// Scope is the step's scope without the item.
	Scope *spec.Scope
	// Workers is the most items in flight at once, at least 1.
	Workers int
	// RunID is the id of the run flowrun apply started. In a workflow
	// called by a single uses: step, Scope.Run.ID is the called run's own
	// id, and Path names the block: the ids of the uses: steps from the
	// top workflow down to the one holding Step (empty at the top). The
	// pair names the block uniquely while it runs.
	RunID string
	Path  []string
	// Env is what the run added to the process environment for child
	// processes, NAME=value in order (the workflow's env:; in a called
	// workflow also its callers' and the calling steps' env:): a worker
	// appends it to its own environment, never the coordinator's.
	Env []string
	// Start is when the run started: ItemResult.OffsetMS counts from it.
	Start time.Time
	// Next returns the next item to run, its key evaluated, or ok false
	// when none is left (or ctx was done while it waited for the block's
	// rate or for a limit's key). Items the block settles without running
	// them (a key that cannot be evaluated; results restored by a resume)
	// are recorded by Next itself and never returned. With limit:s, Next
	// may wait until an item is handed to Done; see Dispatcher.
	Next func(ctx context.Context, lane int) (it Item, ok bool, err error)
	// Run runs an item in this process into res. A Dispatcher that runs
	// items elsewhere does not call it.
	Run func(ctx context.Context, it Item, res *ItemResult)
	// Result returns the ItemResult the result of the item at index is
	// written into before Done.
	Result func(lane, index int) *ItemResult
	// Done records a finished item.
	Done func(lane int, res *ItemResult) error
}

// localPool is the Dispatcher that runs items in this process: a pool of
// at most job.Workers goroutines in one errgroup, each taking items from
// job.Next as it frees up, so that a range or a file is never all in
// memory. Lane i+1 starts once lane i has taken its first item, so the
// pool never holds more goroutines than items in flight plus one: a block
// of 100,000 workers over a five-line file starts six. An error from a
// worker cancels the errgroup's context: items not yet taken are never
// started, running ones see their context cancelled. (BenchmarkPool
// compares this with a goroutine per item under errgroup.SetLimit.)
type localPool struct{}

func (localPool) Dispatch(ctx context.Context, job *Job) error {
	g, gctx := errgroup.WithContext(ctx)
	var start func(lane int)
	start = func(lane int) {
		g.Go(func() error {
			for first := true; gctx.Err() == nil; first = false {
				it, ok, err := job.Next(gctx, lane)
				if err != nil || !ok {
					return err
				}
				if first && lane+1 < job.Workers {
					start(lane + 1)
				}
				res := job.Result(lane, it.Index)
				job.Run(gctx, it, res)
				if err := job.Done(lane, res); err != nil {
					return err
				}
			}
			return nil
		})
	}
	start(0)
	return g.Wait()
}

var _ Dispatcher = localPool{}
