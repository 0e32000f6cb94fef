package spec

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRangeItemsAreLazy(t *testing.T) {
	tests := []struct {
		items     string
		static    int  // StaticCount
		inclusive bool // a..b
		step      bool // a step expression
	}{
		{items: "${{ 1..1000000 }}", static: 1_000_000, inclusive: true},
		{items: "${{ 0..inputs.n }}", static: -1, inclusive: true},
		{items: "${{ inputs.n..(inputs.n * 2) }}", static: -1, inclusive: true},
		{items: "${{ range(0, 10) }}", static: 10},
		{items: "${{ range(0, 10, 3) }}", static: 4, step: true},
		{items: "${{ range(10, 0, -3) }}", static: 4, step: true},
		{items: "${{ range(0, inputs.n, max(1, inputs.n / 4)) }}", static: -1, step: true},
		{items: "${{ 5..1 }}", static: 0, inclusive: true},
	}
	for _, tt := range tests {
		t.Run(tt.items, func(t *testing.T) {
			w, ds := parse(t, `
version: 1
inputs:
  n: {type: integer, default: 3}
steps:
  - id: fan
    parallel:
      items: "`+tt.items+`"
      max_items: 2000000
    run: echo
`)
			if ds.HasErrors() {
				t.Fatalf("unexpected diagnostics:\n%v", ds)
			}
			b := w.Step("fan").Parallel
			if b.Range == nil || b.Expr != nil || b.List != nil {
				t.Fatalf("Range %v, Expr %v, List %v; want a lazy range and no list", b.Range, b.Expr, b.List)
			}
			if b.StaticCount != tt.static || b.Range.Inclusive != tt.inclusive || (b.Range.Step != nil) != tt.step {
				t.Errorf("static %d inclusive %v step %v; want %d %v %v", b.StaticCount, b.Range.Inclusive, b.Range.Step != nil, tt.static, tt.inclusive, tt.step)
			}
		})
	}
}

func TestRangeLen(t *testing.T) {
	tests := []struct {
		from, to, step int
		inclusive      bool
		want           int
	}{
		{1, 10, 1, true, 10}, {1, 10, 1, false, 9}, {0, 10, 3, false, 4}, {0, 9, 3, true, 4},
		{10, 0, -3, false, 4}, {10, 1, -3, true, 4}, {5, 1, 1, true, 0}, {1, 5, -1, false, 0}, {3, 3, 1, true, 1},
		{3, 3, 1, false, 0}, {3, 3, -1, true, 1},
		// Lengths that overflow int arithmetic: issue 9 found 0..MaxInt
		// running 0 items and this range giving 0 instead of 2.
		{0, math.MaxInt, 4611686018427387904, false, 2},
		{0, math.MaxInt, 1, false, math.MaxInt},
		{0, math.MaxInt, 1, true, math.MaxInt},
		{math.MinInt, math.MaxInt, 1, true, math.MaxInt},
		{math.MinInt, math.MaxInt, math.MaxInt, true, 3},
		{math.MaxInt, math.MinInt, math.MinInt, true, 2},
		{math.MaxInt, math.MinInt, -1, false, math.MaxInt},
		{math.MaxInt - 1, math.MaxInt, 1, true, 2},
	}
	for _, tt := range tests {
		if got, _ := RangeLen(tt.from, tt.to, tt.step, tt.inclusive); got != tt.want {
			t.Errorf("RangeLen(%d, %d, %d, %v) = %d; want %d", tt.from, tt.to, tt.step, tt.inclusive, got, tt.want)
		}
	}
}

func TestScaleDiagnostics(t *testing.T) {
	tests := []struct {
		name, parallel, diag string
	}{
		{"range arity", `{items: "${{ range(1) }}"}`, `wf.yaml:4:28: range takes 2 or 3 arguments, not 1`},
		{"range end type", `{items: "${{ 1..'x' }}"}`, `wf.yaml:4:31: a range's ends and step must be integers`},
		{"range over max_items", `{items: "${{ 1..2000000 }}"}`, `2000000 items exceed max_items 1000000`},
		{"huge range over max_items", `{items: "${{ 0..9223372036854775807 }}"}`, `9223372036854775807 items exceed max_items 1000000`},
		{"huge range() over max_items", `{items: "${{ range(-9223372036854775807, 9223372036854775807) }}"}`, `9223372036854775807 items exceed max_items 1000000`},
		{"both sources", `{items: [1], items_from: ids.txt}`, `a parallel block has items or items_from, not both`},
		{"unknown format", `{items_from: {file: ids.txt, format: jsnol}}`, `items_from format must be lines, jsonl or csv, not "jsnol" (did you mean "jsonl"?)`},
		{"no file", `{items_from: {format: csv}}`, `items_from has no file`},
		{"results mode", `{items: [1], results: failure}`, `results must be all or failures, not "failure" (did you mean "failures"?)`},
		{"results_file from a step", `{items: [1], results_file: "${{ steps.fan.status }}.jsonl"}`, `results_file can read inputs and run only, not steps`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ds := parse(t, `
version: 1
steps:
  - id: fan
    parallel: `+tt.parallel+`
    run: echo
`)
			if got := ds.Error(); !strings.Contains(got, tt.diag) {
				t.Errorf("diagnostics:\n%s\nwant one containing:\n%s", got, tt.diag)
			}
		})
	}
}

func TestItemsFromResolvesAgainstTheWorkflowDir(t *testing.T) {
	tests := []struct {
		value, path, format string
	}{
		{"ids.txt", "ids.txt", FormatLines},
		{"data/rows.csv", "data/rows.csv", FormatCSV},
		{"{file: ev.ndjson}", "ev.ndjson", FormatJSONL},
		{"{file: x.data, format: jsonl}", "x.data", FormatJSONL},
	}
	dir := t.TempDir()
	flows := filepath.Join(dir, "flows")
	for _, tt := range tests {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(flows, tt.path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(flows, tt.path), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range tests {
		src := "version: 1\nsteps:\n  - id: fan\n    parallel: {items_from: " + tt.value + ", results_file: out/r.jsonl}\n    run: echo\n"
		w, ds := Parse(filepath.Join(flows, "wf.yaml"), []byte(src), Options{Registry: testRegistry()})
		if ds.HasErrors() {
			t.Fatalf("%s: unexpected diagnostics:\n%v", tt.value, ds)
		}
		b := w.Step("fan").Parallel
		if want := filepath.Join(flows, tt.path); b.ItemsFrom.Path != want || b.ItemsFrom.Format != tt.format {
			t.Errorf("%s: path %q format %q; want %q %q", tt.value, b.ItemsFrom.Path, b.ItemsFrom.Format, want, tt.format)
		}
		if want := filepath.Join(flows, "out", "r.jsonl"); b.ResultsFile.Path != want {
			t.Errorf("results_file path %q; want %q", b.ResultsFile.Path, want)
		}
	}
}

func TestReadingOutputsOfAFailuresOnlyBlockIsAnError(t *testing.T) {
	_, ds := parse(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 1..10 }}", results: failures}
    run: echo
  - id: sum
    set: {n: "${{ len(steps.fan.results) + steps.fan.summary.failed }}", all: "${{ sum(steps.fan.outputs) }}"}
outputs:
  first: ${{ steps.fan.outputs[0] }}
`)
	want := []string{
		`wf.yaml:7:98: step "sum" reads steps.fan.outputs, but "fan" has results: failures`,
		`wf.yaml:9:24: output reads steps.fan.outputs, but "fan" has results: failures`,
	}
	got := ds.Error()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("diagnostics:\n%s\nwant one containing:\n%s", got, w)
		}
	}
	if n, _ := ds.Count(); n != len(want) {
		t.Errorf("%d errors; want %d (reading results and summary is fine)", n, len(want))
	}
}
