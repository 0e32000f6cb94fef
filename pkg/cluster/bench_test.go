package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/spec"

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

// BenchmarkBlockNoop measures what a flowrun block costs per item on the
// cluster, the whole way: exec.Run of a block of b.N `set` items (keys,
// scope, ItemRunner, result JSON, Done) through a Coordinator and one
// ItemHandler worker with 16 slots, workers: 16. The Local sub-benchmark
// is the baseline: the same block in the local pool. Compare µs/item.
func BenchmarkBlockNoop(b *testing.B) {
	load := func(b *testing.B) *spec.Workflow {
		src := fmt.Sprintf(`
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 1..%d }}", workers: 16}
    set: {n: "${{ item }}"}
`, b.N)
		wf, ds := spec.Parse("bench.yaml", []byte(src), spec.Options{})
		if ds.HasErrors() {
			b.Fatal(ds)
		}
		return wf
	}
	check := func(b *testing.B, rep *exec.Report) {
		if rep.Status != exec.Succeeded || rep.Step("fan").Summary.Succeeded != b.N {
			b.Fatalf("run %s: %s", rep.Status, rep.Error)
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/item")
	}
	b.Run("Local", func(b *testing.B) {
		wf := load(b)
		b.ReportAllocs()
		b.ResetTimer()
		rep := exec.Run(context.Background(), wf, exec.Options{})
		b.StopTimer()
		check(b, rep)
	})
	b.Run("Cluster", func(b *testing.B) {
		wf := load(b)
		s := testServer(b)
		h := &ItemHandler{Name: "w1", Slots: 16}
		defer h.Close()
		startWorker(b, s, &Worker{Name: "w1", Slots: 16, Handler: h.Handle}, false)
		manifest, err := NewManifest(wf, nil, 0)
		if err != nil {
			b.Fatal(err)
		}
		c := NewCoordinator(testConn(b, s), manifest, CoordinatorOptions{})
		defer c.Close(context.Background())
		b.ReportAllocs()
		b.ResetTimer()
		rep := exec.Run(context.Background(), wf, exec.Options{Dispatcher: c})
		b.StopTimer()
		check(b, rep)
	})
}

// BenchmarkEncodeResult measures what a worker pays to say where an
// output's NaN and ±Inf are (encodeResult) over encoding the result as
// before (the Marshal baseline), for an http-like output without one.
func BenchmarkEncodeResult(b *testing.B) {
	res := &exec.ItemResult{Index: 7, Key: "k-7", Status: exec.Succeeded, Attempts: 1, DurationMS: 1.5,
		Output: map[string]any{"status": 200, "headers": map[string]any{"content-type": "application/json"},
			"body": map[string]any{"id": 7, "name": "ns-7", "tags": []any{"a", "b", "c"}, "ratio": 0.25}}}
	b.Run("Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(res); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encodeResult", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := encodeResult(res); err != nil {
				b.Fatal(err)
			}
		}
	})
}
