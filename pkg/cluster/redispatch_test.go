package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A block dispatched again under the same run and name (a resumed run, or
// a coordinator that died and left its stream) starts from a new stream:
// the message ids the old one remembers would drop the new items and
// results as duplicates, and a worker following the old announcement
// starts over on the new one.
func TestRedispatchReplacesStaleStream(t *testing.T) {
	s := testServer(t)
	nc := testConn(t, s)
	r := openRun(t, nc, "again")
	startWorker(t, s, &Worker{Name: "w1", Slots: 2, Handler: echo, PullWait: 100 * time.Millisecond}, false)

	// What a coordinator killed mid-block leaves: the block's stream and
	// announcement, item 0 and its result published and consumed, their
	// ids in the de-duplication window.
	ctx := context.Background()
	stale := &dispatch{run: r, b: Block{Name: "b", Workers: 1}.withDefaults(), maxPayload: int(nc.MaxPayload())}
	if err := stale.setup(ctx); err != nil {
		t.Fatal(err)
	}
	_ = stale.advSub.Unsubscribe()
	m := itemMsg("again", "b", Item{Index: 0, Payload: []byte("p0")})
	if _, err := r.js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stale item to be run", func() bool {
		st, err := stale.stream.Info(ctx)
		return err == nil && st.State.Msgs == 1 // its result; the item was acked
	})
	batch, err := stale.results.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		_ = m.Ack()
	}

	c := newCollector()
	dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := r.Dispatch(dctx, Block{Name: "b", Workers: 2}, items(3), c.accept); err != nil {
		t.Fatalf("dispatch after a stale one: %v", err)
	}
	c.checkOnce(t, 3)
	if res := c.get(0); string(res.Payload) != "rp0" || res.Err != nil {
		t.Errorf("index 0: %+v", res)
	}
}

// Block.Data reaches the handler of every item, is read once per block by
// each worker, and is removed with the block.
func TestBlockData(t *testing.T) {
	s := testServer(t)
	r := openRun(t, testConn(t, s), "data")
	var bad atomic.Int32
	startWorker(t, s, &Worker{Name: "w1", Slots: 2, Handler: func(ctx context.Context, tk Task) ([]byte, error) {
		if string(tk.BlockData) != "shared by all" {
			bad.Add(1)
		}
		return echo(ctx, tk)
	}}, false)
	c := newCollector()
	if _, err := r.Dispatch(context.Background(), Block{Name: "b", Workers: 2, Data: []byte("shared by all")}, items(20), c.accept); err != nil {
		t.Fatal(err)
	}
	c.checkOnce(t, 20)
	if n := bad.Load(); n > 0 {
		t.Errorf("%d items saw other block data", n)
	}
	if _, err := r.obj.GetBytes(context.Background(), blockDataObject("b")); !errors.Is(err, jetstream.ErrObjectNotFound) {
		t.Errorf("block data after the block: %v, want not found", err)
	}
}

// An item past MaxDeliver whose advisory never arrives (advisories are not
// persisted) still fails, found by the coordinator's sweep: the block does
// not hang.
func TestPoisonItemSweptWithoutAdvisory(t *testing.T) {
	s := testServer(t)
	r := openRun(t, testConn(t, s), "sweep")
	var procs [2]*workerProc
	for i := range procs {
		procs[i] = startWorker(t, s, &Worker{Name: fmt.Sprint("w", i), Slots: 1, Handler: func(ctx context.Context, tk Task) ([]byte, error) {
			if tk.Index == 3 {
				procs[i].kill()
				<-ctx.Done()
				return nil, ctx.Err()
			}
			return echo(ctx, tk)
		}}, true)
	}
	c := newCollector()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := r.Dispatch(ctx, Block{Name: "b", Workers: 2, AckWait: 300 * time.Millisecond, MaxDeliver: 2, Poll: 100 * time.Millisecond, lostAdvisories: true}, items(10), c.accept)
	if err != nil {
		t.Fatal(err)
	}
	c.checkOnce(t, 10)
	if res := c.get(3); !errors.Is(res.Err, ErrMaxDeliveries) || !strings.Contains(res.Err.Error(), "max_deliver 2") {
		t.Errorf("poison item: %v, want ErrMaxDeliveries", res.Err)
	}
}
