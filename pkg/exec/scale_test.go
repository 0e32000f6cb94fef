package exec

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// heapWatch is an Observer that samples the live heap every `every`
// items.
type heapWatch struct {
	every int64
	items atomic.Int64
	peak  atomic.Uint64
}

func (*heapWatch) StepStarted(*spec.Step, int)            {}
func (*heapWatch) StepFinished(*spec.Step, *StepReport)   {}
func (h *heapWatch) ItemFinished(*spec.Step, *ItemResult) { h.sample(false) }

func (h *heapWatch) sample(force bool) {
	if n := h.items.Add(1); force || n%h.every == 0 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		for p := h.peak.Load(); m.HeapAlloc > p && !h.peak.CompareAndSwap(p, m.HeapAlloc); p = h.peak.Load() {
		}
	}
}

func TestTwoMillionItemsInFlatMemory(t *testing.T) {
	// Materialised, the range alone would be 16 MB ([]int) to 32 MB
	// ([]any), and every result kept some 250 MB; expr-lang would refuse
	// the range outright (its memory budget).
	reg := registry()
	reg.Register(steps.Info{Type: "nop", New: func() steps.Step { return nopStep{} }})
	wf := loadWith(t, reg, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 1..2000000 }}", max_items: 2000000, results: failures, workers: 2}
    nop: {}
`)
	h := &heapWatch{every: 250_000}
	h.sample(true)
	base := h.peak.Load()
	rep := Run(context.Background(), wf, Options{Observer: h})
	fan := rep.Step("fan")
	if fan.Status != Succeeded || fan.Summary.Total != 2_000_000 || fan.Summary.Succeeded != 2_000_000 {
		t.Fatalf("fan %s %q, summary %+v; want 2,000,000 items succeeded", fan.Status, fan.Error, fan.Summary)
	}
	if len(fan.Results) != 0 || fan.ResultsKept != spec.ResultsFailures {
		t.Errorf("%d results kept (%q); want none: nothing failed", len(fan.Results), fan.ResultsKept)
	}
	if grew := h.peak.Load() - min(base, h.peak.Load()); grew > 8<<20 {
		t.Errorf("live heap grew by %d MB while the block ran; want under 8 MB: items or results are being held", grew>>20)
	}
}

func TestRangeItems(t *testing.T) {
	tests := []struct {
		items string
		want  []any
	}{
		{"${{ 2..inputs.n }}", []any{2, 3, 4}},
		{"${{ range(10, 0, -3) }}", []any{10, 7, 4, 1}},
		{"${{ range(0, inputs.n * 2, inputs.n) }}", []any{0, 4}},
		{"${{ 5..1 }}", []any{}},
	}
	for _, tt := range tests {
		t.Run(tt.items, func(t *testing.T) {
			rep := runYAML(t, `
version: 1
inputs:
  n: {type: integer, default: 4}
steps:
  - id: fan
    parallel: {items: "`+tt.items+`"}
    probe: {out: "${{ item }}"}
`, Options{Inputs: map[string]any{"n": 4}})
			fan := rep.Step("fan")
			got := []any{}
			for _, r := range fan.Results {
				got = append(got, r.Output)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || fan.Status != Succeeded {
				t.Errorf("status %s %q; outputs (-want +got):\n%s", fan.Status, fan.Error, diff)
			}
		})
	}
}

func TestResultsFailuresCountsEverything(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..99 }}", workers: 3, results: failures, on_error: continue, max_failures: "10%"}
    probe: {fail: "${{ item % 10 == 3 }}"}
  - id: after
    probe: {out: "${{ map(steps.fan.results, .index) }}"}
`, Options{})
	fan := rep.Step("fan")
	s := fan.Summary
	if fan.Status != Succeeded || s.Total != 100 || s.Succeeded != 90 || s.Failed != 10 {
		t.Fatalf("fan %s %q, summary %+v; want 90 succeeded, 10 failed, tolerated", fan.Status, fan.Error, s)
	}
	want := []any{3, 13, 23, 33, 43, 53, 63, 73, 83, 93}
	if diff := cmp.Diff(want, rep.Step("after").Output); diff != "" {
		t.Errorf("indexes of the kept results (-want +got):\n%s", diff)
	}
	for _, r := range fan.Results {
		if r.Status != Failed || r.Key == "" || !strings.Contains(r.Error, "probe failed") {
			t.Errorf("kept %+v; want only failed items, with key and error", r)
		}
	}
}

func TestResultsFileHasEveryItem(t *testing.T) {
	var syncs atomic.Int64
	count := hooks{sync: func(f *os.File) error { syncs.Add(1); return f.Sync() }}
	out := filepath.Join(t.TempDir(), "out.jsonl")
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..49 }}", workers: 4, results: failures, on_error: continue, max_failures: 100, results_file: `+out+`}
    probe: {fail: "${{ item % 7 == 0 }}", out: "${{ {'sq': item * item} }}"}
`, Options{hooks: count})
	if st := rep.Step("fan").Status; st != Succeeded {
		t.Fatalf("fan %s: %s", st, rep.Step("fan").Error)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []ItemResult
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r ItemResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, r)
	}
	slices.SortFunc(got, func(a, b ItemResult) int { return a.Index - b.Index })
	if len(got) != 50 {
		t.Fatalf("%d lines; want 50, one per item", len(got))
	}
	for i, r := range got {
		wantStatus, wantOut := Succeeded, any(map[string]any{"sq": float64(i * i)})
		if i%7 == 0 {
			wantStatus, wantOut = Failed, nil
		}
		if r.Index != i || r.Key != itoa(i) || r.Status != wantStatus || !cmp.Equal(r.Output, wantOut) || r.Attempts != 1 {
			t.Errorf("line for item %d: %+v; want index and key %d, %s, output %v", i, r, i, wantStatus, wantOut)
		}
	}
	if n := syncs.Load(); n != 1 {
		t.Errorf("file synced %d times; want once, at the end", n)
	}
}

func TestDefaultResultsKeepUpToALimit(t *testing.T) {
	for _, tt := range []struct {
		name, items, results, read, err string
	}{
		{"known count", `"${{ 1..10 }}"`, "", "sum(steps.fan.outputs)", `reads steps.fan.outputs, but step "fan" kept only its failed items (it ran 10 items and results: all (the default) keeps 5`},
		{"streamed", "[1, 2, 3, 4, 5, 6, 7]", "", "len(steps.fan.results)", `reads steps.fan.results, but step "fan" kept only its failed items (it ran 7 items`},
		{"explicit all", `"${{ 1..10 }}"`, "results: all", "sum(steps.fan.outputs)", ""},
		{"under the limit", `"${{ 1..5 }}"`, "", "sum(steps.fan.outputs)", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			results := ""
			if tt.results != "" {
				results = ", " + tt.results
			}
			rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: `+tt.items+results+`}
    probe: {out: "${{ item }}"}
  - id: after
    probe: {out: "${{ `+tt.read+` }}"}
`, Options{hooks: hooks{kept: 5}})
			after := rep.Step("after")
			if tt.err == "" {
				if after.Status != Succeeded {
					t.Errorf("after %s %q; want it to read every result", after.Status, after.Error)
				}
				return
			}
			if after.Status != Failed || !strings.Contains(after.Error, tt.err) || !strings.Contains(after.Error, "test.yaml:7:") {
				t.Errorf("after %s %q; want failed at its position with %q", after.Status, after.Error, tt.err)
			}
		})
	}
}

func TestItemsFrom(t *testing.T) {
	tests := []struct {
		name, file, content, format string
		want                        []any
		err                         string
	}{
		{name: "lines", file: "ids.txt", content: "a\nb\r\n\n  c d \n", want: []any{"a", "b", "  c d "}},
		{name: "no final newline", file: "ids.txt", content: "x\ny", want: []any{"x", "y"}},
		{name: "jsonl", file: "ev.jsonl", content: `{"id": 1}` + "\n" + `"two"` + "\n\n3\n", want: []any{map[string]any{"id": 1}, "two", 3}},
		{name: "csv", file: "rows.csv", content: "id,name\n1,ann\n2,\"bo, b\"\n", want: []any{map[string]any{"id": "1", "name": "ann"}, map[string]any{"id": "2", "name": "bo, b"}}},
		{name: "bad json", file: "ev.jsonl", content: "1\n2\n{oops\n", err: "ev.jsonl:3: step \"fan\": items_from: invalid JSON"},
		{name: "two values", file: "ev.jsonl", content: "1 2\n", err: "ev.jsonl:1: step \"fan\": items_from: more than one JSON value"},
		{name: "short row", file: "rows.csv", content: "id,name\n1,ann\n2\n", err: "rows.csv:3: step \"fan\": items_from: wrong number of fields"},
		{name: "empty csv", file: "rows.csv", content: "", err: "rows.csv is empty: a csv file starts with a header row"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			rep := runFile(t, dir, nil, `
version: 1
steps:
  - id: fan
    parallel: {items_from: `+tt.file+`, workers: 1}
    probe: {out: "${{ item }}"}
`)
			fan := rep.Step("fan")
			if tt.err != "" {
				if fan.Status != Failed || !strings.Contains(fan.Error, tt.err) {
					t.Errorf("fan %s %q; want failed with %q", fan.Status, fan.Error, tt.err)
				}
				return
			}
			got := []any{}
			for _, r := range fan.Results {
				got = append(got, r.Output)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || fan.Status != Succeeded {
				t.Errorf("status %s %q; outputs (-want +got):\n%s", fan.Status, fan.Error, diff)
			}
		})
	}
}

func TestMaxItemsOfLazySources(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "items.txt"), []byte("a\nb\nc\nd\ne\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := runFile(t, dir, map[string]any{"n": 11}, `
version: 1
inputs:
  n: {type: integer}
steps:
  - id: range
    parallel: {items: "${{ 1..inputs.n }}", max_items: 10}
    probe: {record: r}
`)
	if r := rep.Step("range"); r.Status != Failed || !strings.Contains(r.Error, `test.yaml:6:24: step "range": 11 items exceed max_items 10`) {
		t.Errorf("range %s %q; want failed before any item, at the range", r.Status, r.Error)
	}
	if len(probes.started) != 0 {
		t.Errorf("%d range items started; want none", len(probes.started))
	}
	rep = runFile(t, dir, nil, `
version: 1
steps:
  - id: file
    parallel: {items_from: items.txt, max_items: 3, workers: 1}
    probe: {}
`)
	f := rep.Step("file")
	if f.Status != Failed || !strings.Contains(f.Error, `items.txt:4: step "file": items_from: more than max_items 3 items`) {
		t.Errorf("file %s %q; want failed at line 4", f.Status, f.Error)
	}
	if f.Summary.Succeeded != 3 {
		t.Errorf("file: %d items succeeded; want the 3 read before the limit", f.Summary.Succeeded)
	}
}

// runFile writes a workflow to dir/test.yaml, loads and runs it.
func runFile(t *testing.T, dir string, inputs map[string]any, src string) *Report {
	t.Helper()
	path := filepath.Join(dir, "test.yaml")
	if err := os.WriteFile(path, []byte(strings.TrimLeft(src, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	wf, ds := spec.Load(path, spec.Options{Registry: registry()})
	if ds.HasErrors() {
		t.Fatalf("workflow does not load:\n%v", ds)
	}
	resetProbes()
	return Run(context.Background(), wf, Options{Inputs: inputs})
}

func TestPercentilesWithinStatedError(t *testing.T) {
	d := newDurations()
	var exact []int64
	for range 20_000 {
		// Microseconds from 1 µs to 10 s, spread over many magnitudes.
		v := int64(math.Pow(10, rand.Float64()*7) + 0.5)
		exact = append(exact, v)
	}
	for chunk := range slices.Chunk(exact, durationBatch) {
		d.add(chunk)
	}
	slices.Sort(exact)
	for _, p := range []float64{1, 50, 90, 95, 99, 99.9, 100} {
		rank := int(math.Ceil(p / 100 * float64(len(exact))))
		want := float64(exact[rank-1]) / 1000
		got := d.percentile(p)
		if got < want || got > want*(1+DurationError)+0.001 {
			t.Errorf("p%v = %v ms; want %v ms within %v", p, got, want, DurationError)
		}
	}
	if got, want := d.maxMS(), float64(exact[len(exact)-1])/1000; got != want {
		t.Errorf("max %v; want exactly %v", got, want)
	}
}

func TestItemsFromIsReadOnDemand(t *testing.T) {
	// A failure at item 2 with one worker: a source that read ahead (or
	// the whole file) would count the 1,000 lines.
	dir := t.TempDir()
	var lines strings.Builder
	for i := range 1000 {
		lines.WriteString(itoa(i) + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "ids.txt"), []byte(lines.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := runFile(t, dir, nil, `
version: 1
steps:
  - id: fan
    parallel: {items_from: ids.txt, workers: 1}
    probe: {fail: "${{ item == '2' }}"}
`)
	fan := rep.Step("fan")
	if fan.Status != Failed || fan.Summary.Total != 3 || fan.Summary.Succeeded != 2 {
		t.Errorf("fan %s, summary %+v; want failed after reading 3 lines", fan.Status, fan.Summary)
	}
}

func TestRangeStepZero(t *testing.T) {
	rep := runYAML(t, `
version: 1
inputs:
  s: {type: integer, default: 0}
steps:
  - id: fan
    parallel: {items: "${{ range(0, 10, inputs.s) }}"}
    probe: {}
`, Options{Inputs: map[string]any{"s": 0}})
	if f := rep.Step("fan"); f.Status != Failed || !strings.Contains(f.Error, `step "fan": a range's step cannot be 0`) {
		t.Errorf("fan %s %q; want failed: a step of 0", f.Status, f.Error)
	}
}
