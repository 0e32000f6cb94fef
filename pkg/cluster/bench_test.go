package cluster

import (
	"context"
	"testing"

	"golang.org/x/sync/errgroup"
)

// BenchmarkDispatchNoop measures the per-item cost of remote dispatch:
// no-op items through the embedded server (in-process connections), one
// worker with 16 slots, workers: 16. The Local sub-benchmark is the
// baseline: the same items through an in-process pool of 16 goroutines.
// Compare µs/item.
func BenchmarkDispatchNoop(b *testing.B) {
	noop := func(context.Context, Task) ([]byte, error) { return nil, nil }
	b.Run("Local", func(b *testing.B) {
		src := items(b.N)
		var g errgroup.Group
		g.SetLimit(16)
		results := make([]Result, b.N)
		b.ReportAllocs()
		b.ResetTimer()
		for {
			it, ok, _ := src(context.Background())
			if !ok {
				break
			}
			g.Go(func() error {
				p, err := noop(context.Background(), Task{Index: it.Index, Payload: it.Payload})
				results[it.Index] = Result{Index: it.Index, Payload: p, Err: err}
				return nil
			})
		}
		_ = g.Wait()
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/item")
	})
	b.Run("Cluster", func(b *testing.B) {
		s := testServer(b)
		r := openRun(b, testConn(b, s), "bench")
		startWorker(b, s, &Worker{Name: "w1", Slots: 16, Handler: noop}, false)
		accepted := 0
		accept := func(context.Context, Result) error { accepted++; return nil }
		b.ReportAllocs()
		b.ResetTimer()
		if _, err := r.Dispatch(context.Background(), Block{Name: "b", Workers: 16}, items(b.N), accept); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if accepted != b.N {
			b.Fatalf("accepted %d of %d", accepted, b.N)
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/item")
	})
}
