package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// nats.go v1.55.0 jetstream: ObjectStore.Put makes its own
		// JetStream context, whose async-publish setup starts this
		// goroutine; Put's deferred cleanupReplySub sets the channel it
		// reads to nil, and when cleanup wins the race the goroutine
		// blocks on a nil channel forever (object.go:693, publish.go:567).
		// One per OpenRun at most, on the coordinator; not ours to fix.
		goleak.IgnoreTopFunction("github.com/nats-io/nats.go/jetstream.(*jetStream).resetPendingAcksOnReconnect"))
}

// testServer starts an in-process server (no socket) for one test.
func testServer(t testing.TB) *Server {
	t.Helper()
	s, err := StartServer(ServerOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

func testConn(t testing.TB, s *Server) *nats.Conn {
	t.Helper()
	nc, err := s.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func openRun(t testing.TB, nc *nats.Conn, id string) *Run {
	t.Helper()
	r, err := OpenRun(context.Background(), nc, id, []byte(`{"manifest":"`+id+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return r
}

// items yields n items with payload "p<i>".
func items(n int) ItemSource {
	i := 0
	return func(context.Context) (Item, bool, error) {
		if i == n {
			return Item{}, false, nil
		}
		it := Item{Index: i, Key: fmt.Sprint("k", i), Payload: fmt.Appendf(nil, "p%d", i)}
		i++
		return it, true, nil
	}
}

// collector is an AcceptFunc recording results by index.
type collector struct {
	mu   sync.Mutex
	byIx map[int][]Result
}

func newCollector() *collector { return &collector{byIx: map[int][]Result{}} }

func (c *collector) accept(_ context.Context, r Result) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byIx[r.Index] = append(c.byIx[r.Index], r)
	return nil
}

// checkOnce fails unless indices 0..n-1 each have exactly one result.
func (c *collector) checkOnce(t *testing.T, n int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byIx) != n {
		t.Errorf("results for %d indices, want %d", len(c.byIx), n)
	}
	for i := range n {
		if got := len(c.byIx[i]); got != 1 {
			t.Errorf("index %d accepted %d times, want 1", i, got)
		}
	}
}

func (c *collector) get(i int) Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byIx[i]) == 0 {
		return Result{Index: -1}
	}
	return c.byIx[i][0]
}

// echo answers "r"+payload.
func echo(_ context.Context, t Task) ([]byte, error) {
	return append([]byte("r"), t.Payload...), nil
}

// worker runs w on its own connection until the test's cleanup; kill
// closes that connection, as a worker killed with -9 would, and the
// supervisor starts a fresh one (restart=true) like a service manager.
type workerProc struct {
	t       testing.TB
	s       *Server
	w       *Worker
	restart bool

	mu    sync.Mutex
	nc    *nats.Conn
	kills int

	cancel context.CancelFunc
	done   chan struct{}
}

func startWorker(t testing.TB, s *Server, w *Worker, restart bool) *workerProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &workerProc{t: t, s: s, w: w, restart: restart, cancel: cancel, done: make(chan struct{})}
	started := make(chan struct{})
	go func() {
		defer close(p.done)
		first := true
		for ctx.Err() == nil {
			nc, err := s.Connect()
			if err != nil {
				t.Errorf("worker %s: connect: %v", w.Name, err)
				return
			}
			p.mu.Lock()
			p.nc = nc
			p.mu.Unlock()
			if first {
				close(started)
				first = false
			}
			err = w.Run(ctx, nc)
			nc.Close()
			if err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
				t.Errorf("worker %s: %v", w.Name, err)
			}
			if !p.restart {
				return
			}
		}
	}()
	<-started
	t.Cleanup(p.stop)
	return p
}

// kill drops the worker's connection without acking anything.
func (p *workerProc) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.kills++
	p.nc.Close()
}

func (p *workerProc) stop() {
	p.cancel()
	<-p.done
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
