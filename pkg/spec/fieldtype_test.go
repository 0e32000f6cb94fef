package spec

import (
	"context"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/pkg/steps"
)

type typedStep struct {
	Message string         `yaml:"message"`
	Count   int            `yaml:"count"`
	Wait    steps.Duration `yaml:"wait"`
	Tags    []string       `yaml:"tags"`
	On      bool           `yaml:"on"`
}

func (*typedStep) Run(context.Context, *steps.Input) (any, error) { return nil, nil }

// TestFieldTypes: validate checks a field's whole-value expression
// against the field's type where the value's type is known: a list into
// a string field fails every run, so it fails the file.
func TestFieldTypes(t *testing.T) {
	reg := testRegistry()
	reg.Register(steps.Info{Type: "typed", New: func() steps.Step { return new(typedStep) }})
	for _, tt := range []struct{ name, config, want string }{
		{"list into string", `{message: "${{ steps.fan.outputs }}"}`, `typed.message wants a string; the expression gives a list`},
		{"object into string", `{message: "${{ inputs.o }}"}`, `typed.message wants a string; the expression gives an object`},
		{"list into integer", `{count: "${{ steps.fan.outputs }}"}`, `typed.count wants an integer; the expression gives a list`},
		{"string into integer", `{count: "${{ inputs.s }}"}`, `typed.count wants an integer; the expression gives a string`},
		{"number into list", `{tags: "${{ inputs.n }}"}`, `typed.tags wants a list; the expression gives an integer`},
		{"string into bool", `{on: "${{ inputs.s }}"}`, `typed.on wants true or false; the expression gives a string`},
		{"number into string", `{message: "${{ inputs.n }}"}`, ""},
		{"string into duration", `{wait: "${{ inputs.s }}"}`, ""},
		{"unknown type", `{message: "${{ steps.fan.outputs[0] }}", count: "${{ inputs.o.x }}"}`, ""},
		{"list in text", `{message: "all: ${{ steps.fan.outputs }}"}`, ""},
		{"list into list", `{tags: "${{ inputs.l }}"}`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := `
version: 1
inputs:
  o: {type: object, default: {}}
  s: {type: string, default: "5s"}
  n: {type: integer, default: 1}
  l: {type: list, default: []}
steps:
  - id: fan
    parallel: {items: [1]}
    run: echo
  - id: use
    typed: ` + tt.config + `
`
			_, ds := Parse("wf.yaml", []byte(strings.TrimLeft(src, "\n")), Options{Registry: reg})
			got := ds.Error()
			if tt.want == "" && ds.HasErrors() || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("diagnostics:\n%s\nwant: %q", got, tt.want)
			}
		})
	}
}

// TestConstantDivisionByZero: a division by a constant zero, or a
// constant that folds to ±Inf or NaN, is an error at validate.
func TestConstantDivisionByZero(t *testing.T) {
	for _, tt := range []struct{ expr, want string }{
		{"1 / 0", `wf.yaml:6:21: division by zero`},
		{"inputs.n / 0", `division by zero`},
		{"inputs.n % 0", `division by zero`},
		{"inputs.n / (2 - 2)", `division by zero`},
		{"1e308 * 10", `the constant part is +Inf`},
		{"0.0 / 0.0", `division by zero`},
		{"inputs.n / 2", ""},
		{"inputs.n / inputs.n", ""},
	} {
		t.Run(tt.expr, func(t *testing.T) {
			_, ds := parse(t, "version: 1\ninputs:\n  n: {type: integer}\nsteps:\n  - id: a\n    set: {x: \"${{ "+tt.expr+" }}\"}\noutputs:\n  y: ${{ "+tt.expr+" }}\n")
			got := ds.Error()
			if tt.want == "" && ds.HasErrors() || tt.want != "" && strings.Count(got, tt.want) < 1 {
				t.Errorf("diagnostics:\n%s\nwant: %q", got, tt.want)
			}
		})
	}
}
