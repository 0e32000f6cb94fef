package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Worker runs items of any run's blocks from the cluster. It learns of
// blocks from the registry bucket (announced by Dispatch), pulls from each
// block's workers consumer, and runs at most Slots items at once across all
// blocks.
//
// Per item: while Handler runs, the delivery is kept alive with an
// in-progress heartbeat every AckWait/3; then the result is published
// (message id run.block.index.result) and only after the server confirms it
// is the item acknowledged. A worker that dies at any point leaves the item
// unacknowledged, so it is redelivered after AckWait: execution is
// at-least-once, and the coordinator accepts one result per index.
//
// Cancellation: a run's or block's cancel key, or the end of the block,
// cancels the context of that block's running items at once.
type Worker struct {
	// Name identifies the worker in results and errors (e.g. host:pid).
	Name string
	// Slots caps the items this worker runs at once (>= 1).
	Slots int
	// Handler runs one item.
	Handler Handler
	// Grace is how long a draining worker lets running items finish
	// before cancelling them (default 30 s).
	Grace time.Duration
	// PullWait is how long one pull request waits for items (default 1 s);
	// a draining worker stops within it.
	PullWait time.Duration
	// Logf, if set, receives diagnostics that are not an item's result
	// (a lost ack, an unreadable announcement).
	Logf func(format string, args ...any)
}

// Errors that end a running item's context, as context.Cause reports them.
var (
	errBlockCancelled = errors.New("block cancelled by the coordinator")
	errRunCancelled   = errors.New("run cancelled by the coordinator")
	errBlockEnded     = errors.New("block ended on the coordinator")
	errGraceOver      = errors.New("worker stopping: drain grace over")
)

// Run works until ctx is cancelled, then drains: it starts nothing new,
// hands back (Nak) items fetched but not started, lets running items finish
// within Grace, then cancels them and hands them back too, and returns nil.
// It returns an error if the connection fails (items it held are
// redelivered to other workers after their AckWait).
func (w *Worker) Run(ctx context.Context, nc *nats.Conn) error {
	if w.Slots < 1 || w.Handler == nil || w.Name == "" {
		return errors.New("cluster: worker needs a Name, a Handler and Slots >= 1")
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("cluster: worker %s: %w", w.Name, err)
	}
	reg, err := registry(ctx, js)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it started: nothing to drain
		}
		return err
	}
	s := &workerState{
		w: w, js: js, nc: nc,
		slots:     make(chan struct{}, w.Slots),
		blocks:    make(map[string]*workerBlock),
		cancelled: make(map[string]bool),
		manifests: make(map[string]*manifest),
		fatal:     make(chan error, 1),
	}
	// pullCtx stops pulling (drain); itemsCtx cancels running items
	// (grace over, connection lost).
	s.pullCtx, s.stopPull = context.WithCancel(context.WithoutCancel(ctx))
	s.itemsCtx, s.stopItems = context.WithCancelCause(context.WithoutCancel(ctx))
	defer s.stopItems(nil)
	defer s.stopPull()

	watch, err := reg.WatchAll(s.pullCtx)
	if err != nil {
		return fmt.Errorf("cluster: worker %s: watch registry: %w", w.Name, err)
	}
	defer func() { _ = watch.Stop() }()

	closed := nc.StatusChanged(nats.CLOSED)
	defer nc.RemoveStatusListener(closed)
	if nc.IsClosed() {
		return fmt.Errorf("cluster: worker %s: %w", w.Name, nats.ErrConnectionClosed)
	}
	var runErr error
loop:
	for {
		select {
		case e, ok := <-watch.Updates():
			if !ok {
				runErr = fmt.Errorf("cluster: worker %s: registry watch ended", w.Name)
				if nc.IsClosed() { // the watch saw it first
					runErr = fmt.Errorf("cluster: worker %s: %w", w.Name, nats.ErrConnectionClosed)
				}
				break loop
			}
			if e != nil {
				s.onRegistry(e)
			}
		case <-closed:
			runErr = fmt.Errorf("cluster: worker %s: %w", w.Name, nats.ErrConnectionClosed)
			break loop
		case err := <-s.fatal:
			runErr = err
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	s.drain(runErr != nil)
	return runErr
}

type workerState struct {
	w  *Worker
	js jetstream.JetStream
	nc *nats.Conn

	slots chan struct{}
	fatal chan error

	pullCtx   context.Context
	stopPull  context.CancelFunc
	itemsCtx  context.Context
	stopItems context.CancelCauseFunc

	pullers sync.WaitGroup // block pullers
	items   sync.WaitGroup // running items

	mu        sync.Mutex
	blocks    map[string]*workerBlock // by run.block
	cancelled map[string]bool         // runs whose cancel key is set
	manifests map[string]*manifest    // by run
}

// workerBlock is one block this worker pulls from.
type workerBlock struct {
	info   blockInfo
	ctx    context.Context // cancelled when the block ends or is cancelled
	cancel context.CancelCauseFunc

	data cached // Data, read once
}

// cached is bytes read from the cluster once. A read that fails is not
// kept (the next item tries again): an item cancelled mid-read must not
// fail the items after it.
type cached struct {
	mu   sync.Mutex
	done bool
	data []byte
}

func (c *cached) get(read func() ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.done {
		data, err := read()
		if err != nil {
			return nil, err
		}
		c.data, c.done = data, true
	}
	return c.data, nil
}

type manifest = cached

func (s *workerState) logf(format string, args ...any) {
	if s.w.Logf != nil {
		s.w.Logf("worker %s: "+format, append([]any{s.w.Name}, args...)...)
	}
}

// onRegistry follows the registry: block announced → pull from it; block
// gone or cancelled, run cancelled → cancel its running items.
func (s *workerState) onRegistry(e jetstream.KeyValueEntry) {
	k, ok := parseRegistryKey(e.Key())
	if !ok {
		return
	}
	put := e.Operation() == jetstream.KeyValuePut
	s.mu.Lock()
	defer s.mu.Unlock()
	id := k.run + "." + k.block
	switch {
	case k.kind == "block" && put:
		if s.cancelled[k.run] {
			return
		}
		var info blockInfo
		if err := json.Unmarshal(e.Value(), &info); err != nil || info.Stream == "" {
			s.logf("unreadable announcement of block %s: %q", id, e.Value())
			return
		}
		if old := s.blocks[id]; old != nil {
			if old.info.Gen == info.Gen {
				return
			}
			// The block was dispatched again (a resumed run): the
			// earlier stream is gone.
			s.endBlockLocked(id, errBlockEnded)
		}
		ctx, cancel := context.WithCancelCause(s.itemsCtx)
		wb := &workerBlock{info: info, ctx: ctx, cancel: cancel}
		s.blocks[id] = wb
		s.pullers.Go(func() { s.pull(wb) })
	case k.kind == "block":
		s.endBlockLocked(id, errBlockEnded)
	case k.kind == "cancel" && k.block != "":
		if put {
			s.endBlockLocked(id, errBlockCancelled)
		}
	case k.kind == "cancel":
		if !put {
			delete(s.cancelled, k.run)
			return
		}
		s.cancelled[k.run] = true
		for bid, wb := range s.blocks {
			if wb.info.Run == k.run {
				s.endBlockLocked(bid, errRunCancelled)
			}
		}
		delete(s.manifests, k.run)
	}
}

func (s *workerState) endBlockLocked(id string, cause error) {
	wb := s.blocks[id]
	if wb == nil {
		return
	}
	wb.cancel(cause)
	delete(s.blocks, id)
	run := wb.info.Run
	for _, other := range s.blocks {
		if other.info.Run == run {
			return
		}
	}
	delete(s.manifests, run)
}

// pull fetches items of one block while slots are free.
func (s *workerState) pull(wb *workerBlock) {
	cons, err := s.js.Consumer(wb.ctx, wb.info.Stream, wb.info.Consumer)
	if err != nil {
		if !isNotFound(err) && wb.ctx.Err() == nil {
			s.logf("block %s.%s: %v", wb.info.Run, wb.info.Block, err)
		}
		return
	}
	wait := s.w.PullWait
	if wait <= 0 {
		wait = time.Second
	}
	for {
		// Take one slot (blocking), then any others free, and ask for
		// that many items.
		select {
		case s.slots <- struct{}{}:
		case <-s.pullCtx.Done():
			return
		case <-wb.ctx.Done():
			return
		}
		n := 1
		for more := true; more && n < cap(s.slots); {
			select {
			case s.slots <- struct{}{}:
				n++
			default:
				more = false
			}
		}
		// Take what is there for all n slots at once; if nothing is,
		// wait for one item (a pull request waiting tells the coordinator a
		// worker is here). A Fetch of n would hold n slots until n items
		// arrived or it expired.
		got, err := s.fetch(wb, cons, n, func() (jetstream.MessageBatch, error) { return cons.FetchNoWait(n) })
		if err == nil && got == 0 {
			s.release(n - 1)
			n = 1
			got, err = s.fetch(wb, cons, 1, func() (jetstream.MessageBatch, error) {
				return cons.Fetch(1, jetstream.FetchMaxWait(wait))
			})
		}
		s.release(n - got)
		if err != nil && s.pullFailed(wb, err) {
			return
		}
	}
}

// fetch starts the items of one pull request, each holding one of the
// slots the caller took; it returns how many arrived.
func (s *workerState) fetch(wb *workerBlock, cons jetstream.Consumer, n int, pull func() (jetstream.MessageBatch, error)) (int, error) {
	batch, err := pull()
	if err != nil {
		return 0, err
	}
	got := 0
	for m := range batch.Messages() {
		got++
		if got > n { // never: the server sends at most n
			_ = m.Nak()
			got--
			continue
		}
		if s.pullCtx.Err() != nil || wb.ctx.Err() != nil {
			_ = m.Nak() // hand back: not started
			s.release(1)
			continue
		}
		s.items.Go(func() {
			defer s.release(1)
			s.runItem(wb, m)
		})
	}
	if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
		return got, err
	}
	return got, nil
}

// pullFailed reports whether the block's puller should stop.
func (s *workerState) pullFailed(wb *workerBlock, err error) bool {
	switch {
	case wb.ctx.Err() != nil || s.pullCtx.Err() != nil:
		return true
	case errors.Is(err, nats.ErrConnectionClosed):
		select {
		case s.fatal <- fmt.Errorf("cluster: worker %s: %w", s.w.Name, err):
		default:
		}
		return true
	case isNotFound(err) || errors.Is(err, jetstream.ErrConsumerDeleted):
		return true // the block ended; its registry key goes next
	}
	s.logf("block %s.%s: pull: %v", wb.info.Run, wb.info.Block, err)
	time.Sleep(100 * time.Millisecond) // do not spin on a persistent error
	return false
}

func (s *workerState) release(n int) {
	for range n {
		<-s.slots
	}
}

// runItem runs one delivery: heartbeats while the handler runs, then
// publish the result and ack, or hand the item back when stopped.
func (s *workerState) runItem(wb *workerBlock, m jetstream.Msg) {
	info := wb.info
	h := m.Headers()
	index, err := headerIndex(h)
	if err != nil {
		_ = m.TermWithReason(err.Error())
		return
	}
	t := Task{Run: info.Run, Block: info.Block, Index: index, Key: headerKey(h), Payload: m.Data(), Deliveries: 1}
	if md, err := m.Metadata(); err == nil {
		t.Deliveries = int(md.NumDelivered)
	}
	ctx, cancel := context.WithCancelCause(wb.ctx)
	defer cancel(nil)

	hbDone := make(chan struct{})
	var hb sync.WaitGroup
	hb.Go(func() {
		period := max(info.AckWait/3, 10*time.Millisecond)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				_ = m.InProgress()
			case <-hbDone:
				return
			}
		}
	})
	payload, herr := s.call(ctx, wb, t)
	close(hbDone)
	hb.Wait()

	if cause := context.Cause(ctx); ctx.Err() != nil {
		switch {
		case errors.Is(cause, errGraceOver):
			_ = m.Nak() // another worker runs it
		default:
			// Cancelled or ended block: nothing to report, the queue is
			// purged or gone.
			_ = m.Term()
		}
		return
	}
	s.publishResult(t, m, payload, herr)
}

// call runs the handler, turning a panic into the item's error.
func (s *workerState) call(ctx context.Context, wb *workerBlock, t Task) (payload []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	t.Manifest, err = s.manifest(ctx, t.Run)
	if err != nil {
		return nil, fmt.Errorf("worker %s cannot read the run's manifest: %w", s.w.Name, err)
	}
	t.BlockData, err = s.blockData(ctx, wb)
	if err != nil {
		return nil, fmt.Errorf("worker %s cannot read the block's data: %w", s.w.Name, err)
	}
	return s.w.Handler(ctx, t)
}

// blockData reads the block's Data once.
func (s *workerState) blockData(ctx context.Context, wb *workerBlock) ([]byte, error) {
	if !wb.info.Data {
		return nil, nil
	}
	return wb.data.get(func() ([]byte, error) { return readBlockData(ctx, s.js, wb.info.Run, wb.info.Block) })
}

func (s *workerState) manifest(ctx context.Context, run string) ([]byte, error) {
	s.mu.Lock()
	mf := s.manifests[run]
	if mf == nil {
		mf = &manifest{}
		s.manifests[run] = mf
	}
	s.mu.Unlock()
	return mf.get(func() ([]byte, error) { return readManifest(ctx, s.js, run) })
}

func (s *workerState) publishResult(t Task, m jetstream.Msg, payload []byte, herr error) {
	out := nats.NewMsg(resultsSubject(t.Run, t.Block))
	out.Header.Set(hdrIndex, strconv.Itoa(t.Index))
	out.Header.Set(hdrWorker, s.w.Name)
	out.Header.Set(hdrDeliveries, strconv.Itoa(t.Deliveries))
	out.Header.Set(hdrStatus, "ok")
	out.Data = payload
	if herr != nil {
		out.Header.Set(hdrStatus, "error")
		out.Data = []byte(herr.Error())
	}
	if limit := int(s.nc.MaxPayload()); msgSize(out) > limit {
		out.Header.Set(hdrStatus, "error")
		out.Data = fmt.Appendf(nil, "%v: the result is %d bytes, over the cluster's max payload of %d bytes", ErrPayloadTooLarge, msgSize(out), limit)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.js.PublishMsg(ctx, out, jetstream.WithMsgID(resultMsgID(t.Run, t.Block, t.Index))); err != nil {
		// Not acked: the item comes back after AckWait and runs again.
		s.logf("block %s.%s item %d: publish result: %v", t.Run, t.Block, t.Index, err)
		_ = m.Nak()
		return
	}
	if err := m.Ack(); err != nil {
		s.logf("block %s.%s item %d: ack: %v (the item may run again; its result is accepted once)", t.Run, t.Block, t.Index, err)
	}
}

// drain stops pulling, lets running items finish within Grace, then
// cancels the rest and waits for them.
func (s *workerState) drain(now bool) {
	s.stopPull()
	s.pullers.Wait() // each returns within PullWait, handing back what it fetched
	done := make(chan struct{})
	go func() { s.items.Wait(); close(done) }()
	grace := s.w.Grace
	if grace <= 0 {
		grace = 30 * time.Second
	}
	if now {
		grace = 0
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	s.stopItems(errGraceOver)
	<-done
	s.mu.Lock()
	for id := range s.blocks {
		s.endBlockLocked(id, errBlockEnded)
	}
	s.mu.Unlock()
}
