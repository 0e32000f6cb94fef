package exec

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/pkg/steps"
)

// goroutines is a step type for tests: its output is the number of
// goroutines of the process while it runs.
type goroutines struct{}

func (goroutines) Run(context.Context, *steps.Input) (any, error) {
	return runtime.NumGoroutine(), nil
}

// TestWorkersBeyondItems: a block's workers bound the items in flight;
// they are not goroutines made up front. 100,000 workers over a file of
// five lines, whose count is unknown until its end, start a handful.
func TestWorkersBeyondItems(t *testing.T) {
	reg := registry()
	reg.Register(steps.Info{Type: "goroutines", New: func() steps.Step { return goroutines{} }})
	wf := loadFilesWith(t, reg, map[string]string{"ids.txt": "a\nb\nc\nd\ne\n", "main.yaml": `
version: 1
steps:
  - id: fan
    parallel: {items_from: ids.txt, workers: 100000}
    goroutines: {}
`})
	before := runtime.NumGoroutine()
	rep := Run(context.Background(), wf, Options{})
	fan := rep.Step("fan")
	if fan.Status != Succeeded || len(fan.Results) != 5 {
		t.Fatalf("fan %s (%s), %d results; want 5 succeeded", fan.Status, fan.Error, len(fan.Results))
	}
	for _, r := range fan.Results {
		if n := r.Output.(int); n > before+20 {
			t.Errorf("item %d ran beside %d goroutines (%d before the run); want a few per item in flight", r.Index, n, before)
		}
	}
}

// TestWorkersExpressionBounded: a workers: expression beyond
// spec.MaxWorkers is an error at its position when the block starts.
func TestWorkersExpressionBounded(t *testing.T) {
	rep := runYAML(t, `
version: 1
inputs:
  w: {type: integer}
steps:
  - id: fan
    parallel: {items: [1, 2], workers: "${{ inputs.w }}"}
    probe: {}
`, Options{Inputs: map[string]any{"w": 20000000}})
	fan := rep.Step("fan")
	if fan.Status != Failed || !strings.Contains(fan.Error, "test.yaml:6:44: workers 20000000 exceeds the limit of 100000") {
		t.Errorf("fan %s: %q; want failed at the expression's position", fan.Status, fan.Error)
	}
	if len(probes.started) != 0 {
		t.Errorf("items ran: %v", probes.started)
	}
}

// TestDuplicateKeysFailTheBlock: two items with one key stop the block,
// naming both, whatever the source of the items.
func TestDuplicateKeysFailTheBlock(t *testing.T) {
	for _, tt := range []struct{ name, items, want string }{
		{"from an expression", `"${{ [1, 2, 3, 12, 5] }}"`, `items 1 and 3 have the same key "2"`},
		{"from a range", `"${{ 0..99 }}"`, `items 0 and 10 have the same key "0"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: `+tt.items+`, key: "${{ item % 10 }}", workers: 1}
    probe: {}
`, Options{})
			fan := rep.Step("fan")
			if fan.Status != Failed || !strings.Contains(fan.Error, `test.yaml:4:`) || !strings.Contains(fan.Error, tt.want) {
				t.Errorf("fan %s: %q; want failed: %s", fan.Status, fan.Error, tt.want)
			}
		})
	}
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..999 }}", key: "k${{ item }}", workers: 8}
    probe: {}
`, Options{})
	if fan := rep.Step("fan"); fan.Status != Succeeded {
		t.Errorf("distinct keys: fan %s: %s", fan.Status, fan.Error)
	}
}

func TestKeySet(t *testing.T) {
	s := newKeySet()
	for i, k := range []string{"a", "b", "", "ab"} {
		if _, dup := s.add(k, i); dup {
			t.Fatalf("%q reported as a duplicate", k)
		}
	}
	if first, dup := s.add("b", 7); !dup || first != 1 {
		t.Errorf("add(b) = %d, %v; want 1, true", first, dup)
	}
}
