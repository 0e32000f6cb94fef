package exec

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/flowrun/flowrun/pkg/steps"
)

// nopStep does nothing: what is left is the engine's own cost per item.
type nopStep struct{}

func (nopStep) Run(context.Context, *steps.Input) (any, error) { return nil, nil }

const benchItems = 100_000

// BenchmarkBlock runs 100,000 no-op items through a parallel block, the
// engine's whole per-item path: dispatch, scope, attempt, result, summary.
func BenchmarkBlock(b *testing.B) { benchBlock(b, "all") }

// BenchmarkBlockLimit is BenchmarkBlock with a limit: per key, over 8 key
// values at most 2 each: the cost of evaluating an item's limit key and
// counting it, compared with BenchmarkBlock in the same invocation.
func BenchmarkBlockLimit(b *testing.B) {
	benchBlockWith(b, "all", `, limit: {key: "${{ item % 8 }}", max: 2}`)
}

// BenchmarkBlockFailures is BenchmarkBlock keeping only failed results:
// the path of a block too large to keep every result.
func BenchmarkBlockFailures(b *testing.B) { benchBlock(b, "failures") }

func benchBlock(b *testing.B, results string) { benchBlockWith(b, results, "") }

func benchBlockWith(b *testing.B, results, extra string) {
	reg := registry()
	reg.Register(steps.Info{Type: "nop", New: func() steps.Step { return nopStep{} }})
	wf := loadWith(b, reg, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..99999 }}", results: `+results+extra+`}
    nop: {}
`)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rep := Run(context.Background(), wf, Options{Workers: runtime.NumCPU()})
		if s := rep.Step("fan").Summary; s.Succeeded != benchItems {
			b.Fatalf("succeeded %d; want %d", s.Succeeded, benchItems)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchItems), "ns/item")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkHandWritten is the baseline: the same 100,000 no-op calls on a
// hand-written errgroup pool of NumCPU workers, results stored by index.
func BenchmarkHandWritten(b *testing.B) {
	type result struct {
		out any
		err error
	}
	var step steps.Step = nopStep{}
	b.ReportAllocs()
	for range b.N {
		results := make([]result, benchItems)
		var next atomic.Int64
		g, ctx := errgroup.WithContext(context.Background())
		for range runtime.NumCPU() {
			g.Go(func() error {
				for ctx.Err() == nil {
					i := int(next.Add(1) - 1)
					if i >= benchItems {
						return nil
					}
					out, err := step.Run(ctx, &steps.Input{Index: i})
					results[i] = result{out, err}
					if err != nil {
						return err
					}
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchItems), "ns/item")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkPool compares the two ways to bound a block's concurrency with
// errgroup, on the same no-op work: a fixed pool of workers pulling
// indexes (what runBlock does) and a goroutine per item under SetLimit.
func BenchmarkPool(b *testing.B) {
	var step steps.Step = nopStep{}
	workers := runtime.NumCPU()
	b.Run("fixed", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			results := make([]any, benchItems)
			var next atomic.Int64
			g, ctx := errgroup.WithContext(context.Background())
			for range workers {
				g.Go(func() error {
					for ctx.Err() == nil {
						i := int(next.Add(1) - 1)
						if i >= benchItems {
							return nil
						}
						results[i], _ = step.Run(ctx, nil)
					}
					return nil
				})
			}
			_ = g.Wait()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchItems), "ns/item")
	})
	b.Run("per-item", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			results := make([]any, benchItems)
			g, ctx := errgroup.WithContext(context.Background())
			g.SetLimit(workers)
			for i := range benchItems {
				g.Go(func() error {
					results[i], _ = step.Run(ctx, nil)
					return nil
				})
			}
			_ = g.Wait()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchItems), "ns/item")
	})
}
