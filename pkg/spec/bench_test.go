package spec_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/pkg/spec"
)

// workflowOf generates a workflow of n steps, each with a parallel block
// over the previous step's outputs, an if:, and expressions in its
// configuration and env.
func workflowOf(n int) []byte {
	var b strings.Builder
	b.WriteString("version: 1\nname: generated\ninputs:\n  base: {type: string, default: \"http://127.0.0.1\"}\n  limit: {type: integer, default: 10}\nsteps:\n")
	b.WriteString("  - id: s0\n    parallel: {items: [1, 2, 3]}\n    run: echo $ITEM\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, `  - id: s%d
    if: steps.s%d.summary.failed == 0 || inputs.limit > %d
    parallel:
      items: ${{ 1..inputs.limit }}
      as: n
      workers: 4
      max_failures: "10%%"
    env:
      PREV: ${{ steps.s%d.status }}
    http:
      url: "${{ inputs.base }}/items/${{ n }}?from=s%d"
      method: POST
      expect: {status: [200, 201]}
`, i, i-1, i, i-1, i)
	}
	return []byte(b.String())
}

// BenchmarkValidate1000Steps parses and checks a generated 1,000-step
// workflow with expressions and a parallel block in every step. Its
// baseline, timed in the same run outside the benchmark's clock, is
// decoding the same file into YAML nodes: x_yaml_decode is how many
// times that validating costs.
func BenchmarkValidate1000Steps(b *testing.B) {
	src := workflowOf(1000)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	var baseline time.Duration
	for b.Loop() {
		if _, ds := spec.Parse("generated.yaml", src, spec.Options{}); ds.HasErrors() {
			b.Fatal(ds)
		}
		b.StopTimer()
		start := time.Now()
		var doc yaml.Node
		if err := yaml.Unmarshal(src, &doc); err != nil {
			b.Fatal(err)
		}
		baseline += time.Since(start)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed())/float64(baseline), "x_yaml_decode")
}

// TestParseConcurrent parses from several goroutines at once: the
// expression compiler's shared configuration is only read (go test -race).
func TestParseConcurrent(t *testing.T) {
	src := workflowOf(20)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			_, ds := spec.Parse("generated.yaml", src, spec.Options{})
			errs <- ds.Err()
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
