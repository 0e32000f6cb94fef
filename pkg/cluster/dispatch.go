package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Block configures the dispatch of one parallel block's items. Zero values
// take the defaults shown; every value is written into the stream and
// consumer configs explicitly, never left to the server's defaults.
type Block struct {
	// Name is the block's name, one subject token.
	Name string
	// Workers caps the items in flight across the whole cluster (the
	// workers consumer's MaxAckPending). Required, >= 1.
	Workers int
	// AckWait is how long a delivery may go without an ack or an
	// in-progress heartbeat before it is redelivered (default 30 s).
	// Workers heartbeat every AckWait/3 while an item runs.
	AckWait time.Duration
	// MaxDeliver bounds deliveries of one item (default 5); past it the
	// item fails with ErrMaxDeliveries.
	MaxDeliver int
	// Window bounds the items published and not yet accepted (default
	// 2*Workers, at least Workers): the publisher runs only that far ahead,
	// so a million-item block holds Window items, not a million.
	Window int
	// Duplicates is the stream's de-duplication window for message ids
	// (default 10 s). The server keeps every id published within it, about
	// 125 bytes each and two per item: 10,000 items a second cost some
	// 25 MB. Exactly-once acceptance does not depend on it (the per-index
	// table does that); it saves re-executions when an item or result is
	// published twice within it.
	Duplicates time.Duration
	// Poll is how often the consumer is asked whether any worker is there
	// (default 1 s).
	Poll time.Duration
	// OnWaiting, if set, is called with true when items wait and no worker
	// is pulling or holding any ("waiting for workers"), and with false
	// when that ends.
	OnWaiting func(waiting bool)
	// Data is what every item of the block shares (flowrun puts the
	// step and its scope there): stored once in the run's object store,
	// read once per block by each worker (Task.BlockData), so that items
	// carry only themselves.
	Data []byte

	// lostAdvisories drops every max-deliveries advisory (tests: the
	// sweep alone must end such items).
	lostAdvisories bool
}

// ItemSource returns the block's items in the order to dispatch them —
// index order, but a block's limit: may hold one back; indices may skip
// (on resume) and must not repeat — and ok=false at the end. It is called
// from one goroutine, never ahead of the publish window.
type ItemSource func(ctx context.Context) (it Item, ok bool, err error)

// AcceptFunc receives each index's result exactly once, before the result
// is acknowledged to the cluster: journal it there, and a coordinator killed
// after AcceptFunc returns loses nothing. An error ends Dispatch with that
// error (the block is cancelled: that is on_error: cancel); to continue past
// a failed item, return nil.
type AcceptFunc func(ctx context.Context, r Result) error

// Stats describe one finished Dispatch.
type Stats struct {
	Published int // items published (excluding ones failed before publishing)
	Accepted  int // indices accepted (== items returned by the source on success)
	// Duplicates counts results dropped because their index was already
	// accepted: re-executions of items whose first delivery was lost.
	Duplicates int
	// Redelivered counts accepted results whose execution was not the
	// first delivery.
	Redelivered int
}

// Dispatch runs one block: it creates the block's work-queue stream (items
// and results subjects) and two durable pull consumers, announces the block
// to workers, publishes items from next in index order within the window
// (message id run.block.index, so a re-publish is dropped), and hands each
// index's result to accept exactly once. Guarantee: every item is executed
// at least once (redelivered after AckWait when a worker dies, at most
// MaxDeliver times) and its result is accepted exactly once; a result that
// arrives for an index already accepted is acknowledged and dropped.
//
// Dispatch returns nil when every item's result was accepted; accept's
// error, next's error or ctx's error otherwise, after cancelling the block
// on the cluster (the block's cancel key for the workers, then a purge).
// Either way the stream, consumers and registry keys are removed.
func (r *Run) Dispatch(ctx context.Context, b Block, next ItemSource, accept AcceptFunc) (Stats, error) {
	if err := checkToken("block name", b.Name); err != nil {
		return Stats{}, err
	}
	if b.Workers < 1 {
		return Stats{}, fmt.Errorf("cluster: block %s: workers must be >= 1, got %d", b.Name, b.Workers)
	}
	b = b.withDefaults()
	d := &dispatch{
		run: r, b: b, next: next, accept: accept,
		maxPayload: int(r.nc.MaxPayload()),
		pending:    make(map[int]string, b.Window),
		lastIndex:  -1,
		stuck:      map[uint64]int{},
	}
	if err := d.setup(ctx); err != nil {
		d.cleanup(ctx, false)
		return Stats{}, err
	}
	err := d.loop(ctx)
	d.cleanup(ctx, err != nil)
	return d.stats, err
}

func (b Block) withDefaults() Block {
	if b.AckWait <= 0 {
		b.AckWait = 30 * time.Second
	}
	if b.MaxDeliver <= 0 {
		b.MaxDeliver = 5
	}
	if b.Window <= 0 {
		b.Window = 2 * b.Workers
	}
	b.Window = max(b.Window, b.Workers)
	if b.Duplicates <= 0 {
		b.Duplicates = 10 * time.Second
	}
	if b.Poll <= 0 {
		b.Poll = time.Second
	}
	return b
}

// dispatch is the state of one Dispatch; loop owns it.
type dispatch struct {
	run        *Run
	b          Block
	next       ItemSource
	accept     AcceptFunc
	maxPayload int

	stream  jetstream.Stream
	workers jetstream.Consumer
	results jetstream.Consumer
	advSub  *nats.Subscription

	// pending: published (or failed before publishing), not yet accepted.
	pending   map[int]string
	lastIndex int // highest index the source returned
	srcDone   bool
	waiting   bool
	stats     Stats
	// stuck counts the sweeps (sweep) that found an item message the
	// server no longer delivers, by stream sequence.
	stuck map[uint64]int
}

func (d *dispatch) setup(ctx context.Context) error {
	run, blk := d.run.id, d.b.Name
	name := streamName(run, blk)
	js := d.run.js
	// A stream left by an earlier dispatch of this block (a coordinator
	// that died, a resumed run) goes first: its messages, and the ids
	// its de-duplication window remembers, would otherwise drop this
	// dispatch's items and results as duplicates.
	if err := js.DeleteStream(ctx, name); err != nil && !isNotFound(err) {
		return fmt.Errorf("cluster: block %s: delete stale stream %s: %w", blk, name, err)
	}
	var err error
	d.stream, err = js.CreateStream(ctx, jetstream.StreamConfig{
		Name:              name,
		Description:       "flowrun: items and results of run " + run + " block " + blk,
		Subjects:          []string{itemsSubject(run, blk), resultsSubject(run, blk)},
		Retention:         jetstream.WorkQueuePolicy,
		MaxConsumers:      -1,
		MaxMsgs:           -1,
		MaxBytes:          -1,
		MaxMsgsPerSubject: -1,
		Discard:           jetstream.DiscardNew,
		MaxAge:            0,
		MaxMsgSize:        int32(d.maxPayload),
		Storage:           jetstream.FileStorage,
		Replicas:          1,
		Duplicates:        d.b.Duplicates,
	})
	if err != nil {
		return fmt.Errorf("cluster: block %s: create stream %s: %w", blk, name, err)
	}
	d.workers, err = js.CreateOrUpdateConsumer(ctx, name, jetstream.ConsumerConfig{
		Durable:       workersConsumer,
		Description:   "flowrun: workers pull items",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       d.b.AckWait,
		MaxDeliver:    d.b.MaxDeliver,
		BackOff:       nil, // redelivery after AckWait, no backoff schedule
		FilterSubject: itemsSubject(run, blk),
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
		MaxWaiting:    512,
		MaxAckPending: d.b.Workers,
		Replicas:      1,
	})
	if err != nil {
		return fmt.Errorf("cluster: block %s: create workers consumer: %w", blk, err)
	}
	d.results, err = js.CreateOrUpdateConsumer(ctx, name, jetstream.ConsumerConfig{
		Durable:       coordinatorConsumer,
		Description:   "flowrun: the coordinator pulls results",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxDeliver:    -1,
		BackOff:       nil,
		FilterSubject: resultsSubject(run, blk),
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
		MaxWaiting:    16,
		MaxAckPending: 2*d.b.Window + 64,
		Replicas:      1,
	})
	if err != nil {
		return fmt.Errorf("cluster: block %s: create results consumer: %w", blk, err)
	}
	// Subscribe to the advisory before any item can exhaust its deliveries.
	d.advSub, err = d.run.nc.SubscribeSync(maxDeliveriesAdvisory + "." + name + "." + workersConsumer)
	if err != nil {
		return fmt.Errorf("cluster: block %s: subscribe to max-deliveries advisory: %w", blk, err)
	}
	info := blockInfo{
		Run: run, Block: blk, Stream: name, Consumer: workersConsumer,
		Results: resultsSubject(run, blk), AckWait: d.b.AckWait,
		Gen: newGeneration(), Data: d.b.Data != nil,
	}
	if d.b.Data != nil {
		if _, err := d.run.obj.PutBytes(ctx, blockDataObject(blk), d.b.Data); err != nil {
			return fmt.Errorf("cluster: block %s: store the block's data: %w", blk, err)
		}
	}
	if err := d.run.reg.Purge(ctx, blockCancelKey(run, blk)); err != nil {
		return fmt.Errorf("cluster: block %s: clear cancel key: %w", blk, err)
	}
	if _, err := d.run.reg.Put(ctx, blockKey(run, blk), encodeBlockInfo(info)); err != nil {
		return fmt.Errorf("cluster: block %s: announce: %w", blk, err)
	}
	return nil
}

// published tells loop about an item the publisher is about to publish, so
// the pending table knows it before its result can arrive.
type published struct {
	it  Item  // Index and Key only
	err error // the item failed before publishing (*ItemError)
	end bool  // the source is exhausted
	// fatal ends the dispatch (source error, publish failure).
	fatal error
}

func (d *dispatch) loop(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	tokens := make(chan struct{}, d.b.Window)
	for range d.b.Window {
		tokens <- struct{}{}
	}
	pubs := make(chan published)
	results := make(chan jetstream.Msg)
	resErrs := make(chan error, 1)
	advs := make(chan *nats.Msg)
	done := make(chan struct{})

	iter, err := d.results.Messages(jetstream.PullMaxMessages(min(d.b.Window, 256)))
	if err != nil {
		return fmt.Errorf("cluster: block %s: read results: %w", d.b.Name, err)
	}
	var wg sync.WaitGroup
	defer func() {
		cancel()
		close(done)
		iter.Stop()
		wg.Wait()
	}()
	wg.Go(func() { d.publish(ctx, tokens, pubs) })
	wg.Go(func() {
		for {
			m, err := iter.Next()
			if err != nil {
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					return
				}
				if isNotFound(err) || errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, nats.ErrConnectionClosed) {
					select {
					case resErrs <- err:
					default:
					}
					return
				}
				continue // transient (missed heartbeat): the iterator re-pulls
			}
			select {
			case results <- m:
			case <-done:
				return
			}
		}
	})
	wg.Go(func() {
		for {
			m, err := d.advSub.NextMsgWithContext(ctx)
			if err != nil {
				return
			}
			if d.b.lostAdvisories {
				continue
			}
			select {
			case advs <- m:
			case <-done:
				return
			}
		}
	})

	poll := time.NewTicker(d.b.Poll)
	defer poll.Stop()
	for !d.srcDone || len(d.pending) > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-resErrs:
			return fmt.Errorf("cluster: block %s: results: %w", d.b.Name, err)
		case p := <-pubs:
			switch {
			case p.fatal != nil:
				return p.fatal
			case p.end:
				d.srcDone = true
			default:
				if _, dup := d.pending[p.it.Index]; dup {
					return fmt.Errorf("cluster: block %s: item source returned index %d again while it runs", d.b.Name, p.it.Index)
				}
				d.pending[p.it.Index] = p.it.Key
				if p.err != nil {
					if err := d.acceptOnce(ctx, Result{Index: p.it.Index, Key: p.it.Key, Err: p.err}, nil, tokens); err != nil {
						return err
					}
				} else {
					d.stats.Published++
				}
			}
		case m := <-results:
			if err := d.onResult(ctx, m, tokens); err != nil {
				return err
			}
		case m := <-advs:
			if err := d.onMaxDeliveries(ctx, m, tokens); err != nil {
				return err
			}
		case <-poll.C:
			if err := d.poll(ctx, tokens); err != nil {
				return err
			}
		}
	}
	d.setWaiting(false)
	return nil
}

// publish feeds items to the stream, one window token per item; loop
// returns the token when the item's result is accepted.
func (d *dispatch) publish(ctx context.Context, tokens <-chan struct{}, pubs chan<- published) {
	send := func(p published) bool {
		select {
		case pubs <- p:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		select {
		case <-tokens:
		case <-ctx.Done():
			return
		}
		it, ok, err := d.next(ctx)
		if err != nil {
			send(published{fatal: fmt.Errorf("cluster: block %s: items: %w", d.b.Name, err)})
			return
		}
		if !ok {
			send(published{end: true})
			return
		}
		if it.Index < 0 {
			send(published{fatal: fmt.Errorf("cluster: block %s: item source returned index %d", d.b.Name, it.Index)})
			return
		}
		m := itemMsg(d.run.id, d.b.Name, it)
		if n := msgSize(m); n > d.maxPayload {
			send(published{it: it, err: d.itemErr(it.Index, it.Key, "", fmt.Errorf("%w: the item is %d bytes, over the cluster's max payload of %d bytes", ErrPayloadTooLarge, n, d.maxPayload))})
			continue
		}
		if !send(published{it: Item{Index: it.Index, Key: it.Key}}) {
			return
		}
		if _, err := d.run.js.PublishMsg(ctx, m); err != nil {
			if ctx.Err() == nil {
				send(published{fatal: fmt.Errorf("cluster: block %s: publish item %d: %w", d.b.Name, it.Index, err)})
			}
			return
		}
	}
}

func (d *dispatch) itemErr(index int, key, worker string, err error) *ItemError {
	return &ItemError{Run: d.run.id, Block: d.b.Name, Index: index, Key: key, Worker: worker, Err: err}
}

// onResult accepts a worker's result if its index is pending, then acks it.
func (d *dispatch) onResult(ctx context.Context, m jetstream.Msg, tokens chan<- struct{}) error {
	h := m.Headers()
	index, err := headerIndex(h)
	if err != nil {
		// Not ours to interpret; drop it rather than block the queue.
		_ = m.Term()
		return nil
	}
	key, ok := d.pending[index]
	if !ok {
		d.stats.Duplicates++
		return ackErr(m.Ack())
	}
	res := Result{Index: index, Key: key, Worker: h.Get(hdrWorker)}
	res.Deliveries, _ = strconv.Atoi(h.Get(hdrDeliveries))
	if h.Get(hdrStatus) == "ok" {
		res.Payload = m.Data()
	} else {
		res.Err = d.itemErr(index, key, res.Worker, &remoteError{msg: string(m.Data())})
	}
	return d.acceptOnce(ctx, res, m, tokens)
}

// acceptOnce hands a pending index's result to accept, then acks m (if any),
// removes the index from the table and returns its window token.
func (d *dispatch) acceptOnce(ctx context.Context, res Result, m jetstream.Msg, tokens chan<- struct{}) error {
	if err := d.accept(ctx, res); err != nil {
		return err
	}
	delete(d.pending, res.Index)
	d.stats.Accepted++
	if res.Deliveries > 1 {
		d.stats.Redelivered++
	}
	tokens <- struct{}{}
	if m != nil {
		return ackErr(m.Ack())
	}
	return nil
}

// ackErr: an ack that fails is not fatal (the result comes again after the
// results consumer's AckWait and is dropped as a duplicate), unless the
// connection is gone.
func ackErr(err error) error {
	if errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("cluster: ack result: %w", err)
	}
	return nil
}

// maxDeliveriesEvent is the part of the server's advisory flowrun reads.
type maxDeliveriesEvent struct {
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

// onMaxDeliveries fails the item whose deliveries ran out: the server
// stops delivering it but, on a work-queue stream, keeps it, so the block
// would wait for it forever. The message tells its index; it is deleted.
func (d *dispatch) onMaxDeliveries(ctx context.Context, m *nats.Msg, tokens chan<- struct{}) error {
	var ev maxDeliveriesEvent
	if err := json.Unmarshal(m.Data, &ev); err != nil || ev.StreamSeq == 0 {
		return fmt.Errorf("cluster: block %s: unreadable max-deliveries advisory %q", d.b.Name, m.Data)
	}
	raw, err := d.stream.GetMsg(ctx, ev.StreamSeq)
	if err != nil {
		if isNotFound(err) {
			return nil // acked meanwhile by a late worker: its result decides
		}
		return fmt.Errorf("cluster: block %s: read item at stream sequence %d: %w", d.b.Name, ev.StreamSeq, err)
	}
	return d.failUndeliverable(ctx, ev.StreamSeq, raw.Header, ev.Deliveries, tokens)
}

// failUndeliverable deletes the item message at seq, which ran out of
// deliveries, and fails its index if it is still pending.
func (d *dispatch) failUndeliverable(ctx context.Context, seq uint64, h nats.Header, deliveries uint64, tokens chan<- struct{}) error {
	index, err := headerIndex(h)
	if err != nil {
		return fmt.Errorf("cluster: block %s: item at stream sequence %d: %w", d.b.Name, seq, err)
	}
	if err := d.stream.DeleteMsg(ctx, seq); err != nil && !isNotFound(err) {
		return fmt.Errorf("cluster: block %s: delete item %d: %w", d.b.Name, index, err)
	}
	key, ok := d.pending[index]
	if !ok {
		return nil
	}
	e := fmt.Errorf("%w after %d deliveries (max_deliver %d): each worker it went to died or stopped heartbeating within the ack wait of %s",
		ErrMaxDeliveries, deliveries, d.b.MaxDeliver, d.b.AckWait)
	return d.acceptOnce(ctx, Result{Index: index, Key: key, Err: d.itemErr(index, key, "", e), Deliveries: int(deliveries)}, nil, tokens)
}

// poll looks at the workers consumer once per Poll: it reports "waiting
// for workers" (items are pending, yet no worker holds one or asks for
// one) and sweeps for items past MaxDeliver.
func (d *dispatch) poll(ctx context.Context, tokens chan<- struct{}) error {
	if len(d.pending) == 0 {
		return nil
	}
	info, err := d.workers.Info(ctx)
	if err != nil {
		return nil // transient; the next poll asks again
	}
	d.setWaiting(info.NumWaiting == 0 && info.NumAckPending == 0)
	return d.sweep(ctx, info, tokens)
}

// sweep fails the items the server will not deliver again when their
// max-deliveries advisory was lost (advisories are not persisted: a
// reconnect or a slow subscriber drops them), so that such an item does
// not hang the block. With nothing pending on the workers consumer and
// nothing awaiting an ack (a delivery handed back for redelivery still
// awaits one), an item message still in the work-queue stream has run
// out of deliveries; one found so by two sweeps in a row (a message being
// acked and removed is seen by at most one) fails as the advisory would
// have failed it.
func (d *dispatch) sweep(ctx context.Context, info *jetstream.ConsumerInfo, tokens chan<- struct{}) error {
	if info.NumPending != 0 || info.NumAckPending != 0 {
		clear(d.stuck)
		return nil
	}
	items := itemsSubject(d.run.id, d.b.Name)
	seen := map[uint64]int{}
	for seq := uint64(1); ; {
		raw, err := d.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(items))
		if isNotFound(err) {
			break
		}
		if err != nil {
			return nil // transient; the next sweep looks again
		}
		seq = raw.Sequence + 1
		seen[raw.Sequence] = d.stuck[raw.Sequence] + 1
		if seen[raw.Sequence] < 2 {
			continue
		}
		delete(seen, raw.Sequence)
		if err := d.failUndeliverable(ctx, raw.Sequence, raw.Header, uint64(d.b.MaxDeliver), tokens); err != nil {
			return err
		}
	}
	d.stuck = seen
	return nil
}

func (d *dispatch) setWaiting(w bool) {
	if w != d.waiting && d.b.OnWaiting != nil {
		d.waiting = w
		d.b.OnWaiting(w)
	}
}

// cleanup ends the block on the cluster. When cancelled, workers first see
// the block's cancel key and the queue is purged so nothing more is handed
// out; then the stream (with its consumers) and the announcement go.
func (d *dispatch) cleanup(ctx context.Context, cancelled bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	run, blk := d.run.id, d.b.Name
	if cancelled {
		_, _ = d.run.reg.PutString(ctx, blockCancelKey(run, blk), "cancelled")
		if d.stream != nil {
			_ = d.stream.Purge(ctx, jetstream.WithPurgeSubject(itemsSubject(run, blk)))
		}
	}
	if d.advSub != nil {
		_ = d.advSub.Unsubscribe()
	}
	_ = d.run.reg.Purge(ctx, blockKey(run, blk))
	if d.b.Data != nil {
		_ = d.run.obj.Delete(ctx, blockDataObject(blk))
	}
	_ = d.run.js.DeleteStream(ctx, streamName(run, blk))
	_ = d.run.reg.Purge(ctx, blockCancelKey(run, blk))
}

func isNotFound(err error) bool {
	return errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrConsumerNotFound) ||
		errors.Is(err, jetstream.ErrMsgNotFound) || errors.Is(err, jetstream.ErrBucketNotFound) ||
		errors.Is(err, jetstream.ErrObjectNotFound) || errors.Is(err, jetstream.ErrKeyNotFound)
}
