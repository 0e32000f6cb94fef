package acme_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/examples/plugin/acme"
	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// registry is a private registry holding acme.greet alone: a test never
// depends on, or changes, what other packages registered in steps.Default.
func registry() *steps.Registry {
	r := steps.NewRegistry()
	r.Register(acme.Info)
	return r
}

func parse(t *testing.T, src string) (*spec.Workflow, spec.Diagnostics) {
	t.Helper()
	return spec.Parse("wf.yaml", []byte(strings.TrimLeft(src, "\n")), spec.Options{Registry: registry()})
}

func TestGreet(t *testing.T) {
	wf, ds := parse(t, `
version: 1
steps:
  - id: fan
    parallel: {items: [Ada, Grace]}
    acme.greet: {name: "${{ item }}", greeting: hi}
  - id: short
    acme.greet: Linus
outputs:
  all: ${{ map(steps.fan.outputs, .message) }}
  short: ${{ steps.short.output.message }}
`)
	if ds.HasErrors() {
		t.Fatalf("does not load:\n%v", ds)
	}
	rep := exec.Run(context.Background(), wf, exec.Options{})
	if rep.Status != exec.Succeeded {
		t.Fatalf("run %s: %s", rep.Status, rep.Error)
	}
	want := map[string]any{"all": []any{"hi, Ada!", "hi, Grace!"}, "short": "hello, Linus!"}
	if diff := cmp.Diff(want, rep.Outputs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
}

func TestGreetConfigErrors(t *testing.T) {
	tests := []struct{ name, step, want string }{
		{"unknown field", `acme.greet: {name: Ada, shuot: true}`, `wf.yaml:4:29: unknown field "shuot" in acme.greet (did you mean "shout"?)`},
		{"wrong type", `acme.greet: {name: Ada, shout: loud}`, `wf.yaml:4:36: acme.greet.shout must be true or false, not the string "loud"`},
		// Validate's errors carry no position of their own: the step's line.
		{"validate", `acme.greet: {greeting: hi}`, `acme.greet: name is required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ds := parse(t, "version: 1\nsteps:\n  - id: a\n    "+tt.step+"\n")
			if got := ds.Error(); !strings.Contains(got, tt.want) || !strings.HasPrefix(got, "wf.yaml:4:") {
				t.Errorf("diagnostics:\n%s\nwant one at wf.yaml:4 containing:\n%s", got, tt.want)
			}
		})
	}
}
