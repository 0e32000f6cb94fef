package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/pkg/steps"
)

type greet struct {
	Name  string         `yaml:"name"`
	Delay steps.Duration `yaml:"delay"`
}

func (*greet) Run(context.Context, *steps.Input) (any, error) { return nil, nil }

type free map[string]any

func (free) Run(context.Context, *steps.Input) (any, error) { return nil, nil }

func stepsRegistry() *steps.Registry {
	r := steps.NewRegistry()
	r.Register(steps.Info{Type: "zeta", Doc: "Takes any keys.", New: func() steps.Step { return free{} }})
	r.Register(steps.Info{Type: "acme.greet", Doc: "Greets someone.", Shorthand: "name", New: func() steps.Step { return new(greet) }})
	return r
}

func TestStepsText(t *testing.T) {
	var out bytes.Buffer
	cmd := &StepsCmd{Format: "text", registry: stepsRegistry()}
	if err := cmd.Run(&env{stdout: &out}); err != nil {
		t.Fatal(err)
	}
	want := `acme.greet
    Greets someone.
    shorthand: acme.greet: <name>
    name   string
    delay  duration

uses
    Runs another workflow file as a step; with: sets its inputs, its outputs become this step's output.
    shorthand: uses: <uses>
    uses  string
    with  mapping

zeta
    Takes any keys.
    fields: any keys
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("flowrun steps (-want +got):\n%s", diff)
	}
}

func TestStepsJSON(t *testing.T) {
	var out bytes.Buffer
	cmd := &StepsCmd{Format: "json", registry: stepsRegistry()}
	if err := cmd.Run(&env{stdout: &out}); err != nil {
		t.Fatal(err)
	}
	var got []stepDoc
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	want := []stepDoc{
		{Type: "acme.greet", Doc: "Greets someone.", Shorthand: "name", Fields: []steps.Field{{Name: "name", Type: "string"}, {Name: "delay", Type: "duration"}}},
		usesDoc,
		{Type: "zeta", Doc: "Takes any keys.", Fields: []steps.Field{}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flowrun steps --format json (-want +got):\n%s", diff)
	}
}

// TestStepsCommand runs the command through the command line, on the
// built-in step types this test binary links (none unless imported): the
// command is wired up and exits 0.
func TestStepsCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Run([]string{"steps", "--format", "json"}, strings.NewReader(""), &stdout, &stderr); code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	var got []stepDoc
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout.String())
	}
}
