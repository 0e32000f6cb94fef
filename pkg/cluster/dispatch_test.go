package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestDispatchInIndexOrderOneSlot(t *testing.T) {
	s := testServer(t)
	r := openRun(t, testConn(t, s), "order")
	var mu sync.Mutex
	var seen []int
	var manifest []byte
	startWorker(t, s, &Worker{Name: "w1", Slots: 1, Handler: func(ctx context.Context, tk Task) ([]byte, error) {
		mu.Lock()
		seen = append(seen, tk.Index)
		manifest = tk.Manifest
		mu.Unlock()
		return echo(ctx, tk)
	}}, false)
	c := newCollector()
	const n = 200
	st, err := r.Dispatch(context.Background(), Block{Name: "b", Workers: 4}, items(n), c.accept)
	if err != nil {
		t.Fatal(err)
	}
	c.checkOnce(t, n)
	for i, ix := range seen {
		if ix != i {
			t.Fatalf("worker saw index %d at position %d: items not dispatched in index order", ix, i)
		}
	}
	for i := range n {
		res := c.get(i)
		if want := fmt.Sprintf("rp%d", i); string(res.Payload) != want || res.Err != nil || res.Worker != "w1" || res.Key != fmt.Sprint("k", i) {
			t.Errorf("index %d: got %+v, want payload %s from w1", i, res, want)
		}
	}
	if string(manifest) != `{"manifest":"order"}` {
		t.Errorf("worker got manifest %q", manifest)
	}
	if st.Published != n || st.Accepted != n {
		t.Errorf("stats %+v", st)
	}
}

func TestDispatchExactlyOnceTwoWorkers(t *testing.T) {
	s := testServer(t)
	r := openRun(t, testConn(t, s), "once")
	for _, name := range []string{"w1", "w2"} {
		startWorker(t, s, &Worker{Name: name, Slots: 4, Handler: echo}, false)
	}
	c := newCollector()
	const n = 1000
	if _, err := r.Dispatch(context.Background(), Block{Name: "b", Workers: 8}, items(n), c.accept); err != nil {
		t.Fatal(err)
	}
	c.checkOnce(t, n)
	// The block's stream is gone afterwards.
	if _, err := r.js.Stream(context.Background(), streamName("once", "b")); !isNotFound(err) {
		t.Errorf("stream after Dispatch: %v, want not found", err)
	}
}

// MaxAckPending = workers caps the items in flight across all workers.
func TestWorkersCapInFlightAcrossWorkers(t *testing.T) {
	s := testServer(t)
	r := openRun(t, testConn(t, s), "cap")
	var cur, peak atomic.Int64
	h := func(ctx context.Context, tk Task) ([]byte, error) {
		n := cur.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(3 * time.Millisecond)
		cur.Add(-1)
		return nil, nil
	}
	startWorker(t, s, &Worker{Name: "w1", Slots: 4, Handler: h}, false)
	startWorker(t, s, &Worker{Name: "w2", Slots: 4, Handler: h}, false)
	c := newCollector()
	const workers, n = 3, 300
	if _, err := r.Dispatch(context.Background(), Block{Name: "b", Workers: workers, Window: 50}, items(n), c.accept); err != nil {
		t.Fatal(err)
	}
	c.checkOnce(t, n)
	t.Logf("peak in flight %d (cap %d, slots 2x4)", peak.Load(), workers)
	if p := peak.Load(); p > workers {
		t.Errorf("peak in flight %d > workers %d", p, workers)
	}
}

// A worker killed mid-item (connection dropped, no ack): the item is
// redelivered after AckWait, runs elsewhere, is accepted once.
func TestWorkerKilledMidItemRedelivered(t *testing.T) {
	s := testServer(t)
	r := openRun(t, testConn(t, s), "kill")
	var victim *workerProc
	var killed atomic.Bool
	victim = startWorker(t, s, &Worker{Name: "victim", Slots: 1, Handler: func(ctx context.Context, tk Task) ([]byte, error) {
		if tk.Index == 5 && killed.CompareAndSwap(false, true) {
			victim.kill()
			<-ctx.Done()
			return []byte("lost"), nil
		}
		return echo(ctx, tk)
	}}, false)
	var calls5 atomic.Int32
	c := newCollector()
	errc := make(chan error, 1)
	go func() {
		_, err := r.Dispatch(context.Background(), Block{Name: "b", Workers: 2, AckWait: 400 * time.Millisecond}, items(20), c.accept)
		errc <- err
	}()
	// The survivor joins once the victim holds item 5.
	waitFor(t, "victim to take item 5", killed.Load)
	survivor := startWorker(t, s, &Worker{Name: "survivor", Slots: 2, Handler: func(ctx context.Context, tk Task) ([]byte, error) {
		if tk.Index == 5 {
			calls5.Add(1)
		}
		return echo(ctx, tk)
	}}, false)
	defer survivor.stop()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	c.checkOnce(t, 20)
	res := c.get(5)
	if res.Worker != "survivor" || res.Deliveries < 2 || string(res.Payload) != "rp5" {
		t.Errorf("index 5: %+v, want survivor's result on delivery >= 2", res)
	}
	if calls5.Load() != 1 {
		t.Errorf("survivor ran item 5 %d times", calls5.Load())
	}
}

// An item running 4x AckWait stays with its worker thanks to heartbeats.
func TestHeartbeatKeepsLongItem(t *testing.T) {
	s := testServer(t)
	r := openRun(t, testConn(t, s), "long")
	var calls atomic.Int32
	h := func(ctx context.Context, tk Task) ([]byte, error) {
		calls.Add(1)
		select {
		case <-time.After(1200 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return []byte("done"), nil
	}
	startWorker(t, s, &Worker{Name: "w1", Slots: 2, Handler: h}, false)
	startWorker(t, s, &Worker{Name: "w2", Slots: 2, Handler: h}, false)
	c := newCollector()
	if _, err := r.Dispatch(context.Background(), Block{Name: "b", Workers: 1, AckWait: 300 * time.Millisecond}, items(1), c.accept); err != nil {
		t.Fatal(err)
	}
	c.checkOnce(t, 1)
	if res := c.get(0); res.Deliveries != 1 || string(res.Payload) != "done" {
		t.Errorf("result %+v, want delivery 1", res)
	}
	if calls.Load() != 1 {
		t.Errorf("item ran %d times, want 1 (heartbeats must keep the delivery)", calls.Load())
	}
}

// An item that kills every worker it lands on fails after MaxDeliver, via
// the max-deliveries advisory; the other items complete. One slot per
// worker: an item running beside the poison one would die with it, and
// could run out of deliveries too.
func TestPoisonItemFailsAfterMaxDeliver(t *testing.T) {
	s := testServer(t)
	r := openRun(t, testConn(t, s), "poison")
	var procs [2]*workerProc
	var poisonRuns atomic.Int32
	for i := range procs {
		i := i
		procs[i] = startWorker(t, s, &Worker{Name: fmt.Sprint("w", i), Slots: 1, Handler: func(ctx context.Context, tk Task) ([]byte, error) {
			if tk.Index == 3 {
				poisonRuns.Add(1)
				procs[i].kill() // the item "crashes" the process
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return echo(ctx, tk)
		}}, true)
	}
	c := newCollector()
	_, err := r.Dispatch(context.Background(), Block{Name: "b", Workers: 2, AckWait: 300 * time.Millisecond, MaxDeliver: 2}, items(10), c.accept)
	if err != nil {
		t.Fatal(err)
	}
	c.checkOnce(t, 10)
	res := c.get(3)
	if !errors.Is(res.Err, ErrMaxDeliveries) || !strings.Contains(res.Err.Error(), "item 3") || !strings.Contains(res.Err.Error(), "max_deliver 2") {
		t.Errorf("poison item: %+v, want ErrMaxDeliveries naming item 3 and max_deliver 2", res.Err)
	}
	t.Logf("poison: %v (ran %d times)", res.Err, poisonRuns.Load())
	if n := poisonRuns.Load(); n != 2 {
		t.Errorf("poison item ran %d times, want MaxDeliver = 2", n)
	}
	for i := range 10 {
		if i != 3 && c.get(i).Err != nil {
			t.Errorf("index %d: %v", i, c.get(i).Err)
		}
	}
}

// Cancelling a block cancels the running items on every worker (the
// block's cancel key) and purges the queue; Dispatch returns the cause.
func TestCancelStopsRunningItems(t *testing.T) {
	for _, how := range []string{"ctx", "accept-error"} {
		t.Run(how, func(t *testing.T) {
			s := testServer(t)
			r := openRun(t, testConn(t, s), "cancel")
			var running, stopped, started atomic.Int32
			var cancelAt atomic.Int64
			var maxLatency atomic.Int64
			h := func(ctx context.Context, tk Task) ([]byte, error) {
				if tk.Index == 0 {
					// Lets accept-error trigger, once the others are out:
					// accept blocks the loop, so nothing is published
					// after it.
					for running.Load() < 3 && ctx.Err() == nil {
						time.Sleep(time.Millisecond)
					}
					time.Sleep(50 * time.Millisecond)
					return []byte("first"), nil
				}
				started.Add(1)
				running.Add(1)
				<-ctx.Done()
				lat := time.Now().UnixNano() - cancelAt.Load()
				if lat > maxLatency.Load() {
					maxLatency.Store(lat)
				}
				running.Add(-1)
				stopped.Add(1)
				return nil, ctx.Err()
			}
			startWorker(t, s, &Worker{Name: "w1", Slots: 2, Handler: h}, false)
			startWorker(t, s, &Worker{Name: "w2", Slots: 2, Handler: h}, false)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			boom := errors.New("on_error: cancel")
			var gate = make(chan struct{})
			accept := func(ctx context.Context, res Result) error {
				if how == "accept-error" {
					<-gate
					cancelAt.Store(time.Now().UnixNano())
					return boom
				}
				return nil
			}
			errc := make(chan error, 1)
			go func() {
				_, err := r.Dispatch(ctx, Block{Name: "b", Workers: 4, AckWait: 10 * time.Second}, items(1000), accept)
				errc <- err
			}()
			waitFor(t, "4 items running", func() bool { return running.Load() == 4 })
			if how == "ctx" {
				cancelAt.Store(time.Now().UnixNano())
				cancel()
			} else {
				close(gate)
			}
			err := <-errc
			if how == "ctx" && !errors.Is(err, context.Canceled) || how != "ctx" && !errors.Is(err, boom) {
				t.Fatalf("Dispatch: %v", err)
			}
			waitFor(t, "running items cancelled", func() bool { return stopped.Load() == 4 })
			t.Logf("running items saw the cancel after at most %s", time.Duration(maxLatency.Load()))
			if n := started.Load(); n != 4 {
				t.Errorf("%d items started, want 4 (nothing after the cancel)", n)
			}
			if _, err := r.js.Stream(context.Background(), streamName("cancel", "b")); !isNotFound(err) {
				t.Errorf("stream after cancel: %v, want not found", err)
			}
		})
	}
}

func TestPayloadOverLimitFailsTheItem(t *testing.T) {
	s := testServer(t)
	nc := testConn(t, s)
	r := openRun(t, nc, "big")
	startWorker(t, s, &Worker{Name: "w1", Slots: 2, Handler: echo}, false)
	limit := int(nc.MaxPayload())
	next := items(5)
	src := func(ctx context.Context) (Item, bool, error) {
		it, ok, err := next(ctx)
		if it.Index == 2 {
			it.Payload = bytes.Repeat([]byte("x"), limit)
		}
		return it, ok, err
	}
	c := newCollector()
	if _, err := r.Dispatch(context.Background(), Block{Name: "b", Workers: 2}, src, c.accept); err != nil {
		t.Fatal(err)
	}
	c.checkOnce(t, 5)
	err := c.get(2).Err
	want := fmt.Sprintf("item 2 (key \"k2\"): payload too large: the item is %d bytes, over the cluster's max payload of %d bytes", limit+len("NATS/1.0\r\n\r\n"), limit)
	if !errors.Is(err, ErrPayloadTooLarge) || err == nil || !strings.Contains(err.Error(), "item 2 (key \"k2\")") || !strings.Contains(err.Error(), fmt.Sprint(limit)) {
		t.Errorf("got %v, want like %q", err, want)
	}
	if c.get(3).Err != nil {
		t.Errorf("index 3: %v", c.get(3).Err)
	}
}

// A handler error (here: the worker lacks the item's step type) fails the
// item with the worker's name in the error.
func TestHandlerErrorNamesWorker(t *testing.T) {
	s := testServer(t)
	r := openRun(t, testConn(t, s), "missing")
	startWorker(t, s, &Worker{Name: "host-a:42", Slots: 1, Handler: func(ctx context.Context, tk Task) ([]byte, error) {
		return nil, fmt.Errorf("step type %q is not registered in this worker", "acme/deploy")
	}}, false)
	c := newCollector()
	if _, err := r.Dispatch(context.Background(), Block{Name: "b", Workers: 1}, items(1), c.accept); err != nil {
		t.Fatal(err)
	}
	got := c.get(0)
	want := `block b item 0 (key "k0") on worker "host-a:42": step type "acme/deploy" is not registered in this worker`
	if got.Err == nil || got.Err.Error() != want || got.Worker != "host-a:42" {
		t.Errorf("got %v, want %s", got.Err, want)
	}
}

// With no worker, the block says so instead of waiting silently.
func TestWaitingForWorkers(t *testing.T) {
	s := testServer(t)
	r := openRun(t, testConn(t, s), "wait")
	states := make(chan bool, 16)
	c := newCollector()
	errc := make(chan error, 1)
	go func() {
		_, err := r.Dispatch(context.Background(), Block{Name: "b", Workers: 2, Poll: 20 * time.Millisecond,
			OnWaiting: func(w bool) { states <- w }}, items(10), c.accept)
		errc <- err
	}()
	if w := <-states; !w {
		t.Fatal("first state: not waiting, with no worker")
	}
	startWorker(t, s, &Worker{Name: "w1", Slots: 2, Handler: echo}, false)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if w := <-states; w {
		t.Fatal("still waiting after a worker joined")
	}
	c.checkOnce(t, 10)
}

func TestBadNames(t *testing.T) {
	s := testServer(t)
	nc := testConn(t, s)
	if _, err := OpenRun(context.Background(), nc, "a.b", nil); err == nil {
		t.Error("run id with a dot accepted")
	}
	r := openRun(t, nc, "names")
	if _, err := r.Dispatch(context.Background(), Block{Name: "x>", Workers: 1}, items(1), newCollector().accept); err == nil {
		t.Error("block name with > accepted")
	}
	if _, err := r.Dispatch(context.Background(), Block{Name: "b", Workers: 0}, items(1), newCollector().accept); err == nil {
		t.Error("workers 0 accepted")
	}
}

// Items may come out of index order (a limit: holds one back): each is
// accepted once all the same. An index returned again while it runs is an
// error, not a second item.
func TestItemSourceOrder(t *testing.T) {
	s := testServer(t)
	r := openRun(t, testConn(t, s), "ooo")
	startWorker(t, s, &Worker{Name: "w1", Slots: 1, Handler: func(ctx context.Context, tk Task) ([]byte, error) {
		time.Sleep(20 * time.Millisecond)
		return echo(ctx, tk)
	}}, false)
	source := func(seq ...int) ItemSource {
		i := 0
		return func(context.Context) (Item, bool, error) {
			if i == len(seq) {
				return Item{}, false, nil
			}
			i++
			return Item{Index: seq[i-1], Payload: fmt.Appendf(nil, "p%d", seq[i-1])}, true, nil
		}
	}
	c := newCollector()
	if _, err := r.Dispatch(context.Background(), Block{Name: "b", Workers: 1, Window: 3}, source(0, 2, 1), c.accept); err != nil {
		t.Fatal(err)
	}
	c.checkOnce(t, 3)
	_, err := r.Dispatch(context.Background(), Block{Name: "c", Workers: 1, Window: 3}, source(0, 1, 1), newCollector().accept)
	if err == nil || !strings.Contains(err.Error(), "index 1 again") {
		t.Fatalf("got %v", err)
	}
}

// A second result for an accepted index (here forged with another message
// id, so the server's de-duplication does not catch it) is dropped by the
// per-index table.
func TestDuplicateResultDropped(t *testing.T) {
	s := testServer(t)
	nc := testConn(t, s)
	r := openRun(t, nc, "dup")
	startWorker(t, s, &Worker{Name: "w1", Slots: 1, Handler: func(ctx context.Context, tk Task) ([]byte, error) {
		for range 2 {
			m := nats.NewMsg(resultsSubject(tk.Run, tk.Block))
			m.Header.Set(hdrIndex, fmt.Sprint(tk.Index))
			m.Header.Set(hdrWorker, "forger")
			m.Header.Set(hdrStatus, "ok")
			m.Data = []byte("forged")
			if _, err := r.js.PublishMsg(ctx, m); err != nil {
				return nil, err
			}
		}
		return echo(ctx, tk)
	}}, false)
	c := newCollector()
	st, err := r.Dispatch(context.Background(), Block{Name: "b", Workers: 1, Window: 1}, items(3), c.accept)
	if err != nil {
		t.Fatal(err)
	}
	c.checkOnce(t, 3)
	// Per item the first forged result wins and the other two are
	// dropped: 4 for the first two items. The last item's extras may or
	// may not be read before the block is done, so 4 to 6 in all.
	if st.Duplicates < 4 || st.Duplicates > 6 {
		t.Errorf("stats %+v, want 4 to 6 duplicates dropped", st)
	}
}
