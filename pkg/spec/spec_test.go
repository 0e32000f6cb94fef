package spec

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/pkg/steps"
)

// Test step types, registered in a private registry.
type runStep struct {
	Script steps.Script `yaml:"script"`
}

func (*runStep) Run(context.Context, *steps.Input) (any, error) { return nil, nil }

type httpStep struct {
	URL     string         `yaml:"url"`
	Method  string         `yaml:"method"`
	Timeout steps.Duration `yaml:"timeout"`
	Expect  struct {
		Status []int `yaml:"status"`
	} `yaml:"expect"`
}

func (*httpStep) Run(context.Context, *steps.Input) (any, error) { return nil, nil }

type setStep map[string]any

func (setStep) Run(context.Context, *steps.Input) (any, error) { return nil, nil }

func testRegistry() *steps.Registry {
	r := steps.NewRegistry()
	r.Register(steps.Info{Type: "run", Shorthand: "script", New: func() steps.Step { return new(runStep) }})
	r.Register(steps.Info{Type: "http", Shorthand: "url", New: func() steps.Step { return new(httpStep) }})
	r.Register(steps.Info{Type: "set", New: func() steps.Step { return setStep{} }})
	return r
}

func parse(t *testing.T, src string) (*Workflow, Diagnostics) {
	t.Helper()
	return Parse("wf.yaml", []byte(strings.TrimLeft(src, "\n")), Options{Registry: testRegistry()})
}

func TestParseValid(t *testing.T) {
	w, ds := parse(t, `
version: 1
name: demo
inputs:
  source: {type: string, default: "http://x"}
  n: {type: integer, default: 3}
steps:
  - id: list
    run: |
      echo '{"a": [1, 2]}'
    output: json
  - id: fan
    parallel:
      items: ${{ steps.list.output.a }}
      as: x
      key: k-${{ x }}
      workers: 2
    http:
      url: ${{ inputs.source }}/get/${{ x }}
      expect: {status: [200]}
  - id: after
    needs: [fan]
    if: steps.fan.summary.failed == 0
    run: echo ${{ steps.fan.outputs }}
outputs:
  n: ${{ inputs.n }}
`)
	if ds.HasErrors() {
		t.Fatalf("unexpected diagnostics:\n%v", ds)
	}
	if got := len(w.Order); got != 3 {
		t.Fatalf("got %d steps in order; want 3", got)
	}
	fan := w.Step("fan")
	if len(fan.Deps) != 1 || fan.Deps[0].ID != "list" || fan.Deps[0].Explicit {
		t.Errorf("fan deps = %+v; want one inferred dependency on list", fan.Deps)
	}
	after := w.Step("after")
	if len(after.Deps) != 1 || !after.Deps[0].Explicit {
		t.Errorf("after deps = %+v; want fan, explicit (the inferred one folds into it)", after.Deps)
	}
	if !fan.Config.UsesItem || fan.Config.IsLiteral() {
		t.Errorf("fan config: UsesItem=%v literal=%v; want per-item expressions", fan.Config.UsesItem, fan.Config.IsLiteral())
	}
}

func TestDiagnostics(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // file:line:col: summary substrings, in order
	}{
		{"unknown key", `
version: 1
steps:
  - id: a
    run: echo
    timout: 3s
`, []string{`wf.yaml:5:5: unknown key "timout" in step (not a step key nor a registered step type) (did you mean "timeout"?)`}},
		{"cycle", `
version: 1
steps:
  - id: a
    needs: [c]
    run: echo
  - id: b
    needs: [a]
    run: echo
  - id: c
    needs: [b]
    run: echo
`, []string{`dependency cycle: a -> c -> b -> a`}},
		{"workflow env reads steps whole", `
version: 1
env:
  A: ${{ get(steps, 'a')?.output ?? 'missing' }}
steps:
  - id: a
    run: echo
`, []string{`wf.yaml:3:9: workflow env A reads steps`}},
		{"expr name", `
version: 1
steps:
  - id: migrate
    run: echo
  - id: b
    run: echo ${{ steps.migrat.output }}
`, []string{`wf.yaml:6:25: unknown step "migrat" (did you mean "migrate"?)`}},
		{"unknown step type", `
version: 1
steps:
  - id: a
    htp: {url: x}
`, []string{`wf.yaml:4:5: unknown key "htp" in step (not a step key nor a registered step type) (did you mean "http"?)`}},
		{"bad config field", `
version: 1
steps:
  - id: a
    http: {url: "http://x", methd: GET, timeout: soon}
`, []string{`wf.yaml:4:29: unknown field "methd" in http (did you mean "method"?)`, `wf.yaml:4:50: http.timeout must be a duration such as 500ms or 30s, not the string "soon"`}},
		{"self and missing", `
version: 1
steps:
  - id: a
    needs: [a, zz]
    run: echo
`, []string{`wf.yaml:4:16: step "a" needs unknown step "zz"`, `wf.yaml:4:13: step "a" depends on itself`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ds := parse(t, tt.src)
			got := ds.Error()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("diagnostics:\n%s\nwant one containing:\n%s", got, w)
				}
			}
		})
	}
}

// TestStepsReadWhole: an expression that reads steps whole or by a
// computed id (toJSON(steps), get(steps, x), steps[x]) makes its step
// depend on every step above it — a finally step on every main step and
// the finally steps above it — so that it never sees a step as absent
// because nothing made it wait for it. Other steps keep their own
// dependencies, and a step above that needs the reader is a cycle.
func TestStepsReadWhole(t *testing.T) {
	w, ds := parse(t, `
version: 1
steps:
  - id: a
    run: echo a
  - id: b
    run: echo b
  - id: whole
    run: echo ${{ toJSON(steps) }}
  - id: named
    run: echo ${{ steps.a.output }}
  - id: computed
    needs: [a]
    run: echo ${{ get(steps, 'b') }}
  - id: both
    env: {ALL: "${{ keys(steps) }}"}
    run: echo ${{ steps.b.output }}
finally:
  - id: f1
    run: echo f1
  - id: f2
    run: echo ${{ len(steps) }}
`)
	if ds.HasErrors() {
		t.Fatalf("unexpected diagnostics:\n%v", ds)
	}
	deps := func(id string) []string {
		var out []string
		for _, d := range w.Step(id).Deps {
			out = append(out, d.ID)
		}
		return out
	}
	for id, want := range map[string][]string{
		"whole":    {"a", "b"},
		"named":    {"a"},
		"computed": {"a", "b", "whole", "named"},
		"both":     {"a", "b", "whole", "named", "computed"},
		"f1":       nil,
		"f2":       {"a", "b", "whole", "named", "computed", "both", "f1"},
	} {
		if got := deps(id); !slices.Equal(got, want) {
			t.Errorf("%s depends on %v; want %v", id, got, want)
		}
	}
	// Only what is read whole is a dependency on the order alone: what an
	// expression names, or needs: lists, keeps its status rule, whichever
	// field of the step comes first.
	for id, named := range map[string][]string{"whole": nil, "computed": {"a"}, "both": {"b"}} {
		for _, d := range w.Step(id).Deps {
			if d.Order == slices.Contains(named, d.ID) {
				t.Errorf("%s: dependency on %s: order only %v; want %v", id, d.ID, d.Order, !d.Order)
			}
		}
	}
	if d := w.Step("whole").Deps[0]; d.Explicit || d.Pos.Line != 8 {
		t.Errorf("whole's dependency on a: %+v at %d:%d; want inferred, at the expression's line 8", d, d.Pos.Line, d.Pos.Column)
	}
	_, ds = parse(t, `
version: 1
steps:
  - id: a
    needs: [reader]
    run: echo a
  - id: reader
    run: echo ${{ toJSON(steps) }}
`)
	if !ds.HasErrors() || !strings.Contains(ds.Error(), "dependency cycle: a -> reader -> a") || !strings.Contains(ds.Error(), `step "reader" reads steps whole (at 7:18), so it waits for every step above it`) {
		t.Errorf("a step above needing the reader: %v; want a cycle saying that the reader reads steps whole", ds)
	}
}
