package cluster

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// A draining worker finishes what finishes within its grace, cancels and
// hands back the rest (another worker runs it), starts nothing new, and
// returns nil.
func TestWorkerDrain(t *testing.T) {
	s := testServer(t)
	r := openRun(t, testConn(t, s), "drain")
	release0 := make(chan struct{})
	var running atomic.Int32
	w1 := startWorker(t, s, &Worker{Name: "w1", Slots: 2, Grace: 300 * time.Millisecond, PullWait: 100 * time.Millisecond,
		Handler: func(ctx context.Context, tk Task) ([]byte, error) {
			running.Add(1)
			switch tk.Index {
			case 0:
				<-release0
				return []byte("w1 finished 0"), nil
			case 1:
				<-ctx.Done() // never finishes on its own
				return nil, ctx.Err()
			}
			t.Errorf("w1 started item %d while draining", tk.Index)
			return nil, nil
		}}, false)
	c := newCollector()
	errc := make(chan error, 1)
	go func() {
		_, err := r.Dispatch(context.Background(), Block{Name: "b", Workers: 2, AckWait: 10 * time.Second}, items(4), c.accept)
		errc <- err
	}()
	waitFor(t, "w1 running 2 items", func() bool { return running.Load() == 2 })
	w1.cancel() // SIGTERM
	close(release0)
	<-w1.done
	startWorker(t, s, &Worker{Name: "w2", Slots: 2, Handler: echo}, false)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	c.checkOnce(t, 4)
	if got := c.get(0); got.Worker != "w1" || string(got.Payload) != "w1 finished 0" {
		t.Errorf("item 0: %+v, want w1's result (finished within grace)", got)
	}
	if got := c.get(1); got.Worker != "w2" || got.Deliveries != 2 {
		t.Errorf("item 1: %+v, want w2 on delivery 2 (w1 handed it back)", got)
	}
	// Redelivered at once (Nak), not after the 10 s AckWait: the test would
	// have taken that long otherwise.
}

// Run.Cancel cancels the run's running items on every worker.
func TestRunCancel(t *testing.T) {
	s := testServer(t)
	r := openRun(t, testConn(t, s), "runcancel")
	var running, stopped atomic.Int32
	h := func(ctx context.Context, tk Task) ([]byte, error) {
		running.Add(1)
		<-ctx.Done()
		if !errors.Is(context.Cause(ctx), errRunCancelled) {
			t.Errorf("item %d cancelled by %v", tk.Index, context.Cause(ctx))
		}
		stopped.Add(1)
		return nil, ctx.Err()
	}
	startWorker(t, s, &Worker{Name: "w1", Slots: 2, Handler: h}, false)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := r.Dispatch(ctx, Block{Name: "b", Workers: 2}, items(10), newCollector().accept)
		errc <- err
	}()
	waitFor(t, "2 items running", func() bool { return running.Load() == 2 })
	if err := r.Cancel(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "items cancelled", func() bool { return stopped.Load() == 2 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Dispatch: %v", err)
	}
}

// A worker whose connection dies returns an error saying so.
func TestWorkerConnectionLost(t *testing.T) {
	s := testServer(t)
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		errc <- (&Worker{Name: "w", Slots: 1, Handler: echo}).Run(context.Background(), nc)
	}()
	nc.Close()
	if err := <-errc; !errors.Is(err, nats.ErrConnectionClosed) {
		t.Fatalf("got %v, want connection closed", err)
	}
}

func TestWorkerNeedsNameHandlerSlots(t *testing.T) {
	s := testServer(t)
	nc := testConn(t, s)
	for _, w := range []*Worker{{Slots: 1, Handler: echo}, {Name: "w", Handler: echo}, {Name: "w", Slots: 1}} {
		if err := w.Run(context.Background(), nc); err == nil {
			t.Errorf("%+v: no error", w)
		}
	}
}

// The embedded server listens on a socket when asked, for workers on other
// machines.
func TestServerListens(t *testing.T) {
	s, err := StartServer(ServerOptions{StoreDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	url := s.ClientURL()
	if url == "" || strings.HasSuffix(url, ":4222") || strings.HasSuffix(url, ":0") {
		t.Fatalf("client URL %q; want a free port picked for port 0", url)
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r, err := OpenRun(context.Background(), nc, "tcp", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if in := testServer(t); in.ClientURL() != "" {
		t.Errorf("in-process server has URL %q", in.ClientURL())
	}
	if _, err := StartServer(ServerOptions{}); err == nil {
		t.Error("server without store dir started")
	}
	if _, err := StartServer(ServerOptions{StoreDir: t.TempDir(), Listen: "nope"}); err == nil {
		t.Error("bad listen address accepted")
	}
}
