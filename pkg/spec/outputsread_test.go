package spec

import (
	"testing"

	"github.com/expr-lang/expr/parser"
)

// TestOutputsRead: a block's outputs count as read when any expression
// of the workflow may read them; only .status and .summary are not.
func TestOutputsRead(t *testing.T) {
	for _, tc := range []struct {
		name, later string
		read        bool
	}{
		{"nothing", `set: {x: 1}`, false},
		{"summary", `set: {p99: "${{ steps.fan.summary.p99_ms }}"}`, false},
		{"status", `if: ${{ steps.fan.status == 'succeeded' }}` + "\n    set: {x: 1}", false},
		{"optional summary", `set: {p: "${{ steps.fan?.summary?.total }}"}`, false},
		{"outputs", `set: {x: "${{ steps.fan.outputs }}"}`, true},
		{"results", `set: {x: "${{ steps.fan.results[0].output }}"}`, true},
		{"an output's field", `set: {x: "${{ steps.fan.outputs[0].a }}"}`, true},
		{"indexed by name", `set: {x: "${{ steps['fan'].outputs }}"}`, true},
		{"the step whole", `set: {x: "${{ toJSON(steps.fan) }}"}`, true},
		{"steps whole", `set: {x: "${{ toJSON(steps) }}"}`, true},
		{"steps by a computed id", `set: {x: "${{ steps[inputs.which].status }}"}`, true},
		{"summary and outputs", `set: {x: "${{ steps.fan.summary.total > 0 ? steps.fan.outputs : nil }}"}`, true},
		{"in a key", `parallel: {items: [1], key: "${{ steps.fan.outputs[0] }}"}` + "\n    set: {x: 1}", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, ds := parse(t, `
version: 1
inputs:
  which: {type: string, default: fan}
steps:
  - id: fan
    parallel: {items: [1, 2]}
    set: {a: "${{ item }}"}
  - id: later
    needs: [fan]
    `+tc.later+`
`)
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			if got := w.Step("fan").Parallel.OutputsRead; got != tc.read {
				t.Errorf("OutputsRead = %v; want %v", got, tc.read)
			}
		})
	}
}

// TestOutputsReadByOutputsAndFinally: the workflow's outputs: and its
// finally steps read too.
func TestOutputsReadByOutputsAndFinally(t *testing.T) {
	for name, tail := range map[string]string{
		"outputs": "outputs:\n  all: ${{ steps.fan.outputs }}\n",
		"finally": "finally:\n  - id: last\n    set: {x: \"${{ steps.fan.results }}\"}\n",
	} {
		w, ds := parse(t, `
version: 1
steps:
  - id: fan
    parallel: {items: [1, 2]}
    set: {a: "${{ item }}"}
`+tail)
		if ds.HasErrors() {
			t.Fatal(ds)
		}
		if !w.Step("fan").Parallel.OutputsRead {
			t.Errorf("%s: the block's outputs are read, but OutputsRead is false", name)
		}
	}
}

// TestEnvRefused: $env, the whole environment, would read steps that
// nothing makes run first (and outputs kept as JSON): an expression
// cannot read it.
func TestEnvRefused(t *testing.T) {
	_, ds := parse(t, `
version: 1
steps:
  - id: fan
    parallel: {items: [1, 2]}
    set: {a: "${{ item }}"}
  - id: later
    set: {x: "${{ get(get($env, 'steps'), 'fan').outputs }}"}
`)
	if len(ds) != 1 || ds[0].Summary != "an expression cannot read $env" || ds[0].Pos.Line != 7 || ds[0].Pos.Column != 27 {
		t.Fatalf("diagnostics:\n%v\nwant one error at 7:27", ds)
	}
}

// TestOutputReadsOfEnv: were $env let through, outputReads would still
// count it as reading every step.
func TestOutputReadsOfEnv(t *testing.T) {
	tree, err := parser.Parse(`get(get($env, 'steps'), 'fan').outputs`)
	if err != nil {
		t.Fatal(err)
	}
	if _, all := outputReads(tree.Node); !all {
		t.Error("$env not counted as reading every step")
	}
}
