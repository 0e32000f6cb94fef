package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// Coordinator is the exec.Dispatcher that runs parallel blocks' items on
// the cluster's workers: set it as exec.Options.Dispatcher. The run's DAG
// and single steps stay in the calling process; so do blocks with
// `remote: false`, which never reach a Dispatcher.
//
// Per run (exec.Job.RunID) it opens the run on the cluster once, with the
// manifest, so that workers compile the same workflow; per block it
// stores the step's path, scope and environment once (Block.Data) and
// publishes each item as exec.Item JSON, in index order, at most
// job.Workers in flight across the cluster.
//
// Guarantee, as Dispatch gives it: every item runs at least once and its
// result is accepted exactly once. Accepting a result calls job.Done —
// the block's tally, the Observer and the Recorder (the run's journal) —
// before the result is acknowledged to the cluster, so a result is
// journaled before the cluster forgets it. A result that arrives for an
// index already accepted is dropped. When the block is cancelled (the
// run's context, or fail-fast through Done's error), the items still on
// the cluster are cancelled on every worker and reported as cancelled.
//
// A Coordinator serves one flowrun process's runs and is safe for
// concurrent use; Close it when they are over.
type Coordinator struct {
	nc       *nats.Conn
	manifest []byte
	opts     CoordinatorOptions

	mu   sync.Mutex
	runs map[string]*runOnce
}

// CoordinatorOptions tune a Coordinator; zero values take Block's
// defaults.
type CoordinatorOptions struct {
	// AckWait and MaxDeliver are every block's (see Block).
	AckWait    time.Duration
	MaxDeliver int
	// OnWaiting is told when a block's items wait with no worker there
	// ("waiting for workers"), and when that ends.
	OnWaiting func(s *spec.Step, waiting bool)
	// OnSent is told of each item handed to the cluster (an Observer's
	// ItemStarted: the item is in flight from then on).
	OnSent func(s *spec.Step, index int)
}

type runOnce struct {
	once sync.Once
	run  *Run
	err  error
}

// NewCoordinator returns a Coordinator sending blocks of runs of the
// workflow that manifest (NewManifest) describes through nc.
func NewCoordinator(nc *nats.Conn, manifest []byte, opts CoordinatorOptions) *Coordinator {
	return &Coordinator{nc: nc, manifest: manifest, opts: opts, runs: map[string]*runOnce{}}
}

// open opens run id on the cluster once.
func (c *Coordinator) open(ctx context.Context, id string) (*Run, error) {
	c.mu.Lock()
	or := c.runs[id]
	if or == nil {
		or = &runOnce{}
		c.runs[id] = or
	}
	c.mu.Unlock()
	or.once.Do(func() { or.run, or.err = OpenRun(ctx, c.nc, id, c.manifest) })
	return or.run, or.err
}

// Close removes the runs' manifests from the cluster. Call it once every
// run using the Coordinator has returned.
func (c *Coordinator) Close(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for id, or := range c.runs {
		if or.run != nil {
			errs = append(errs, or.run.Close(ctx))
		}
		delete(c.runs, id)
	}
	return errors.Join(errs...)
}

// Dispatch runs job's items on the cluster; see Coordinator and
// exec.Dispatcher for the contract.
func (c *Coordinator) Dispatch(ctx context.Context, job *exec.Job) error {
	run, err := c.open(ctx, job.RunID)
	if err != nil {
		return err
	}
	bj := blockJob{Path: job.Path, Step: job.Step.ID, Type: job.Step.Type, Env: job.Env, Start: job.Start}
	if job.Scope != nil {
		sc := *job.Scope
		var in, st any
		in, bj.InputsNonFinite = sendable(sc.Inputs)
		st, bj.StepsNonFinite = sendable(sc.Steps)
		sc.Inputs, _ = in.(map[string]any)
		sc.Steps, _ = st.(map[string]any)
		bj.Scope = &sc
	}
	data, err := json.Marshal(bj)
	if err != nil {
		return fmt.Errorf("the step's scope cannot be sent to workers: %w", err)
	}
	b := &block{job: job, inflight: map[int]string{}}
	blk := Block{
		Name:       blockName(job.Path, job.Step.ID),
		Workers:    job.Workers,
		AckWait:    c.opts.AckWait,
		MaxDeliver: c.opts.MaxDeliver,
		Data:       data,
	}
	// The source runs on the publisher's goroutine and results are
	// accepted on the dispatch loop's: lanes 0 and 1. A block of one
	// worker has one lane; a window of one item keeps its calls apart,
	// since the publisher asks for the next item only once the previous
	// one's result was accepted. (A lock would not do: Next may wait for
	// a Done, under a limit: per key.)
	if job.Workers > 1 {
		b.doneLane = 1
	} else {
		blk.Window = 1
	}
	// An item counts against its limit: keys from Next on, so the
	// cluster queues none beyond those it can run.
	if len(job.Step.Parallel.Limits) > 0 {
		blk.Window = job.Workers
	}
	if f := c.opts.OnWaiting; f != nil {
		blk.OnWaiting = func(w bool) { f(job.Step, w) }
	}
	b.sent = c.opts.OnSent
	_, err = run.Dispatch(ctx, blk, b.next, b.accept)
	if derr := b.cancelRest(); err == nil {
		err = derr
	}
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil // cancelled: the items are reported as such
	}
	return err
}

// block is one Dispatch's bridge between the job and the cluster.
type block struct {
	job      *exec.Job
	doneLane int
	sent     func(s *spec.Step, index int)

	mu       sync.Mutex
	inflight map[int]string // sent, not accepted: index -> key
}

// next is the ItemSource: the job's next item as JSON. An item whose
// value JSON cannot hold fails here, unsent.
func (b *block) next(ctx context.Context) (Item, bool, error) {
	for {
		it, ok, err := b.job.Next(ctx, 0)
		if err != nil || !ok {
			return Item{}, false, err
		}
		p := itemPayload{Item: it}
		p.Item.Value, p.NonFinite = sendable(it.Value)
		payload, err := json.Marshal(p)
		if err != nil {
			res := b.job.Result(0, it.Index)
			*res = exec.ItemResult{Index: it.Index, Key: it.Key, Status: exec.Failed,
				Error: itemError(b.job.Step, it.Index, it.Key, fmt.Errorf("the item cannot be sent to a worker: %w", err))}
			if err := b.job.Done(0, res); err != nil {
				return Item{}, false, err
			}
			continue
		}
		b.mu.Lock()
		b.inflight[it.Index] = it.Key
		b.mu.Unlock()
		if b.sent != nil {
			b.sent(b.job.Step, it.Index)
		}
		return Item{Index: it.Index, Key: it.Key, Payload: payload}, true, nil
	}
}

// accept is the AcceptFunc: the result becomes the item's ItemResult and
// goes to job.Done — tally, Observer, Recorder — before Dispatch
// acknowledges it.
func (b *block) accept(_ context.Context, r Result) error {
	b.mu.Lock()
	delete(b.inflight, r.Index)
	b.mu.Unlock()
	res := b.job.Result(b.doneLane, r.Index)
	decodeResult(b.job.Step, r, res)
	return b.job.Done(b.doneLane, res)
}

// cancelRest reports the items still on the cluster when Dispatch ended
// as cancelled, in index order.
func (b *block) cancelRest() error {
	b.mu.Lock()
	rest := make([]Item, 0, len(b.inflight))
	for i, k := range b.inflight {
		rest = append(rest, Item{Index: i, Key: k})
	}
	clear(b.inflight)
	b.mu.Unlock()
	slices.SortFunc(rest, func(a, b Item) int { return a.Index - b.Index })
	var first error
	for _, it := range rest {
		res := b.job.Result(b.doneLane, it.Index)
		*res = exec.ItemResult{Index: it.Index, Key: it.Key, Status: exec.Cancelled}
		if err := b.job.Done(b.doneLane, res); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// decodeResult fills res from a worker's result: its ItemResult, or the
// failure the cluster reported for the index (no worker finished it, it
// was too large to send, the worker could not run it).
func decodeResult(s *spec.Step, r Result, res *exec.ItemResult) {
	*res = exec.ItemResult{}
	if r.Err == nil {
		dec := json.NewDecoder(bytes.NewReader(r.Payload))
		dec.UseNumber()
		rr := remoteResult{ItemResult: res}
		err := dec.Decode(&rr)
		if err == nil {
			// NaN and ±Inf back where the output had them (remoteResult).
			res.Output, err = steps.RestoreNonFinite(spec.Normalize(res.Output), rr.NonFinite)
		}
		switch {
		case err != nil:
			r.Err = &ItemError{Index: r.Index, Key: r.Key, Worker: r.Worker, Err: fmt.Errorf("unreadable result: %w", err)}
		case res.Index != r.Index:
			r.Err = &ItemError{Index: r.Index, Key: r.Key, Worker: r.Worker, Err: fmt.Errorf("the worker answered for item %d", res.Index)}
		default:
			res.Key, res.Worker = r.Key, r.Worker
			return
		}
		*res = exec.ItemResult{}
	}
	res.Index, res.Key, res.Worker, res.Status = r.Index, r.Key, r.Worker, exec.Failed
	res.Attempts = max(r.Deliveries, 1)
	err := r.Err
	var ie *ItemError
	if errors.As(err, &ie) {
		err = ie.Err
		if ie.Worker != "" {
			err = fmt.Errorf("worker %q: %w", ie.Worker, ie.Err)
		}
	}
	res.Error = itemError(s, r.Index, r.Key, err)
}

// itemError renders an item's error as a local item's: its step's
// position, step and item, then why.
func itemError(s *spec.Step, index int, key string, err error) string {
	return fmt.Sprintf("%s: step %q item %d (key %q): %v", s.TypePos, s.ID, index, key, err)
}

var _ exec.Dispatcher = (*Coordinator)(nil)
