package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// long reports whether the long versions of the scale and chaos tests run
// (FLOWRUN_CLUSTER_LONG=1); CI runs the short ones.
func long() bool { return os.Getenv("FLOWRUN_CLUSTER_LONG") != "" }

// The publisher never runs more than Window items ahead of the accepted
// ones, so a huge block holds Window items, not all of them: checked at
// every item the source hands out, and the heap measured.
func TestPublishWindowBounded(t *testing.T) {
	n := 3_000
	if long() {
		n = 100_000
	}
	s := testServer(t)
	r := openRun(t, testConn(t, s), "window")
	startWorker(t, s, &Worker{Name: "w1", Slots: 8, Handler: func(context.Context, Task) ([]byte, error) { return nil, nil }}, false)
	startWorker(t, s, &Worker{Name: "w2", Slots: 8, Handler: func(context.Context, Task) ([]byte, error) { return nil, nil }}, false)

	const window = 64
	var accepted atomic.Int64
	var maxAhead int64
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	payload := make([]byte, 512)
	i := 0
	src := func(context.Context) (Item, bool, error) {
		if i == n {
			return Item{}, false, nil
		}
		if ahead := int64(i) - accepted.Load(); ahead > maxAhead {
			maxAhead = ahead
		}
		if i%(n/20) == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		it := Item{Index: i, Payload: payload}
		i++
		return it, true, nil
	}
	accept := func(_ context.Context, res Result) error {
		if res.Err != nil {
			return res.Err
		}
		accepted.Add(1)
		return nil
	}
	start := time.Now()
	st, err := r.Dispatch(context.Background(), Block{Name: "b", Workers: 16, Window: window, Duplicates: time.Second}, src, accept)
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	if st.Accepted != n || accepted.Load() != int64(n) {
		t.Fatalf("accepted %d (stats %+v), want %d", accepted.Load(), st, n)
	}
	if maxAhead > window {
		t.Errorf("publisher ran %d items ahead of the accepted ones, window is %d", maxAhead, window)
	}
	t.Logf("%d items of %d bytes in %s (%.1f µs/item); at most %d ahead (window %d); heap in use %d MiB at start, peak %d MiB",
		n, len(payload), el, float64(el.Microseconds())/float64(n), maxAhead, window, base>>20, peak>>20)
	// The embedded server shares this heap and remembers each message id
	// for the duplicates window (about 125 bytes an id, two ids an item),
	// so the window is 1 s here to measure what the dispatch holds. All n
	// payloads at once would be over n*512 bytes (49 MiB for the long run).
	if long() && peak-min(base, peak) > 32<<20 {
		t.Errorf("heap grew by %d MiB over a %d-item block", (peak-base)>>20, n)
	}
}

// Chaos: three workers, one killed (connection dropped, nothing acked) at
// random points and restarted, many times: every index is accepted exactly
// once, none is missing, and re-executions are counted.
func TestChaosKillWorkers(t *testing.T) {
	n, kills := 2_000, 10
	if long() {
		n = 20_000
	}
	s := testServer(t)
	r := openRun(t, testConn(t, s), "chaos")
	var execs atomic.Int64
	var ran sync.Map // index -> *atomic.Int32
	h := func(ctx context.Context, tk Task) ([]byte, error) {
		execs.Add(1)
		v, _ := ran.LoadOrStore(tk.Index, new(atomic.Int32))
		v.(*atomic.Int32).Add(1)
		select {
		case <-time.After(time.Duration(rand.IntN(300)) * time.Microsecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return fmt.Appendf(nil, "%d", tk.Index), nil
	}
	var procs []*workerProc
	for i := range 3 {
		procs = append(procs, startWorker(t, s, &Worker{Name: fmt.Sprint("w", i), Slots: 4, Handler: h, PullWait: 200 * time.Millisecond}, true))
	}
	var acceptedN atomic.Int64
	c := newCollector()
	accept := func(ctx context.Context, res Result) error {
		if res.Err != nil {
			return fmt.Errorf("index %d failed: %w", res.Index, res.Err)
		}
		if string(res.Payload) != fmt.Sprint(res.Index) {
			return fmt.Errorf("index %d: result %q belongs to another item", res.Index, res.Payload)
		}
		acceptedN.Add(1)
		return c.accept(ctx, res)
	}
	// Kill points: random accepted counts, spread over the run.
	points := make([]int64, kills)
	for i := range points {
		points[i] = int64(rand.IntN(n*9/10) + 1)
	}
	stop := make(chan struct{})
	var killer sync.WaitGroup
	killer.Go(func() {
		slices.Sort(points)
		for _, p := range points {
			for acceptedN.Load() < p {
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
			}
			procs[rand.IntN(len(procs))].kill()
		}
	})
	st, err := r.Dispatch(context.Background(), Block{Name: "b", Workers: 12, AckWait: 500 * time.Millisecond, MaxDeliver: 20}, items(n), accept)
	close(stop)
	killer.Wait()
	if err != nil {
		t.Fatal(err)
	}
	c.checkOnce(t, n)
	killed := 0
	for _, p := range procs {
		p.mu.Lock()
		killed += p.kills
		p.mu.Unlock()
	}
	reexec := execs.Load() - int64(n)
	t.Logf("%d items, %d kills: %d executions (%d re-executions), %d results redelivered-accepted, %d duplicate results dropped",
		n, killed, execs.Load(), reexec, st.Redelivered, st.Duplicates)
	if killed != kills {
		t.Errorf("killed %d times, want %d", killed, kills)
	}
	if reexec < 0 {
		t.Errorf("fewer executions (%d) than items (%d)", execs.Load(), n)
	}
}
