package exec_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/flowrun/flowrun/pkg/durable"
	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/state"
	"github.com/flowrun/flowrun/pkg/steps"
)

type nop struct{}

func (nop) Run(context.Context, *steps.Input) (any, error) { return nil, nil }

// BenchmarkBlockJournal is BenchmarkBlock with the run journaled, as
// flowrun apply does by default: its ns/item minus BenchmarkBlock's, from
// the same invocation, is the journal's cost per item.
func BenchmarkBlockJournal(b *testing.B) {
	const items = 100_000
	reg := steps.NewRegistry()
	reg.Register(steps.Info{Type: "nop", New: func() steps.Step { return nop{} }})
	wf, ds := spec.Parse("bench.yaml", []byte(`
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..99999 }}", results: all}
    nop: {}
`), spec.Options{Registry: reg})
	if ds.HasErrors() {
		b.Fatal(ds)
	}
	sd := state.New(b.TempDir())
	key, err := mask.LoadKey(sd.Path())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		run, err := durable.NewRun(wf, nil, key)
		if err != nil {
			b.Fatal(err)
		}
		j, err := durable.Create(sd, run, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		rep := exec.Run(context.Background(), wf, exec.Options{Workers: runtime.NumCPU(), RunID: j.ID(), Recorder: j})
		if err := j.Close(); err != nil {
			b.Fatal(err)
		}
		if s := rep.Step("fan").Summary; s.Succeeded != items || rep.Status != exec.Succeeded {
			b.Fatalf("succeeded %d, run %s (%s); want %d", s.Succeeded, rep.Status, rep.Error, items)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*items), "ns/item")
	b.ReportMetric(0, "ns/op")
}
