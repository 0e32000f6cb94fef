package spec

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/pkg/steps"
)

// fieldStep is a test step type with a field of each rule.
type fieldsStep struct {
	Dir   string           `yaml:"dir"`
	Code  steps.Script     `yaml:"code"`
	Check steps.Expression `yaml:"check"`
	Argv  []string         `yaml:"argv"`
	Free  any              `yaml:"free"`
}

func (*fieldsStep) Run(context.Context, *steps.Input) (any, error) { return nil, nil }

func (*fieldsStep) ExpressionEnv(path string) steps.ExpressionEnv {
	return steps.ExpressionEnv{Vars: map[string]any{"body": nil, "status": 0}, Bool: true}
}

func fieldsRegistry() *steps.Registry {
	r := testRegistry()
	r.Register(steps.Info{Type: "fields", New: func() steps.Step { return new(fieldsStep) }})
	return r
}

func parseFields(t *testing.T, src string) (*Workflow, Diagnostics) {
	t.Helper()
	return Parse("wf.yaml", []byte(strings.TrimLeft(src, "\n")), Options{Registry: fieldsRegistry()})
}

// TestSlotsByConfigPath: each occurrence of an anchored scalar is a slot
// of its own, with the rule of its own field, whichever comes first.
func TestSlotsByConfigPath(t *testing.T) {
	w, ds := parseFields(t, `
version: 1
inputs: {a: {type: string, default: x}}
steps:
  - id: s
    fields:
      dir: &d "${{ inputs.a }}"
      code: *d
      check: &c "status == ${{ inputs.a }}"
      argv: [p, *d, *c]
      free: {k: *d, "a.b": *d}
`)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	got := map[string]reach{}
	for _, s := range w.Steps[0].Config.slots {
		got[s.path] = s.reach
	}
	want := map[string]reach{
		"dir": reachValue, "code": reachShell, "check": reachExpression,
		"argv[1]": reachValue, "argv[2]": reachValue, "free.k": reachValue, `free["a.b"]`: reachValue,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("slots (-want +got):\n%s", diff)
	}

	env := map[string]any{"inputs": map[string]any{"a": "1 || true"}}
	st, vars, err := w.Steps[0].Decode(env, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := st.(*fieldsStep)
	if f.Dir != "1 || true" || f.Code != "${FLOWRUN_EXPR_0}" || f.Argv[1] != "1 || true" || f.Argv[2] != "status == 1 || true" {
		t.Errorf("got %+v", f)
	}
	if want := []string{"FLOWRUN_EXPR_0=1 || true"}; !cmp.Equal(vars, want) {
		t.Errorf("got vars %q; want %q", vars, want)
	}
	out, err := f.Check.Eval(map[string]any{"status": 1})
	if err != nil || out != false {
		t.Errorf("check with status 1 and a = %q: got %v, %v; want false: the value is data", "1 || true", out, err)
	}
}

// TestCheckExprRender: each ${{ }} becomes a variable; inside a string
// literal the literal is split around it, in parentheses.
func TestCheckExprRender(t *testing.T) {
	x := part{expr: &Expr{}}
	tests := []struct {
		parts []part
		want  string
		text  []bool
	}{
		{[]part{{text: "body.n == "}, x}, "body.n ==  $flowrun0 ", []bool{false}},
		{[]part{{text: `body.s == "a`}, x, {text: `b"`}}, `body.s == ("a" + $flowrun0 + "b")`, []bool{true}},
		{[]part{{text: "body.s == '"}, x, {text: `'`}}, `body.s == ('' + $flowrun0 + '')`, []bool{true}},
		{[]part{{text: "`"}, x, {text: "` + \"\\\"\" == "}, x}, "(`` + $flowrun0 + ``) + \"\\\"\" ==  $flowrun1 ", []bool{true, false}},
	}
	for _, tt := range tests {
		c := &checkExpr{}
		got, err := c.render(&Template{parts: tt.parts})
		if err != nil || got != tt.want || !cmp.Equal(c.text, tt.text) {
			t.Errorf("render %+v: got %q %v, %v; want %q %v", tt.parts, got, c.text, err, tt.want, tt.text)
		}
	}
	if _, err := (&checkExpr{}).render(&Template{parts: []part{{text: `"a\`}, x, {text: `"`}}}); err == nil {
		t.Error("a backslash before ${{ }} in a string: got no error")
	}
}

// TestExpressionFieldErrors: an Expression field is compiled when the
// workflow is loaded, errors at the field's position.
func TestExpressionFieldErrors(t *testing.T) {
	tests := []struct{ check, want string }{
		{`"body.x +"`, "wf.yaml:4:21: check: unexpected token EOF"},
		{`"item.ok"`, "wf.yaml:4:21: check: unknown name item"},
		{`"status + 1"`, "wf.yaml:4:21: check: expected bool, but got int"},
		{`"status == ${{ nope }}"`, `wf.yaml:4:36: unknown name "nope"`},
		{`"` + strings.Repeat("(", 200) + "true" + strings.Repeat(")", 200) + `"`, "nests more than 100 levels"},
		{`[a]`, "wf.yaml:4:21: fields.check must be an expression, not a list"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, ds := parseFields(t, "version: 1\nsteps:\n  - id: s\n    fields: {check: "+tt.check+"}\n")
			if !ds.HasErrors() || !strings.Contains(ds.Error(), tt.want) {
				t.Errorf("got %v; want %q", ds, tt.want)
			}
		})
	}
}

// TestStaticConfigDecodedOnce: a configuration without expressions is
// decoded when the workflow is loaded; every run gets that value.
func TestStaticConfigDecodedOnce(t *testing.T) {
	w, ds := parseFields(t, "version: 1\nsteps:\n  - id: s\n    fields: {dir: x, check: status == 1}\n  - id: d\n    fields: {dir: '${{ run.id }}'}\n")
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	a, _, err := w.Steps[0].Decode(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := w.Steps[0].Decode(nil, nil)
	if a != b {
		t.Error("a static configuration was decoded again")
	}
	if out, err := a.(*fieldsStep).Check.Eval(map[string]any{"status": 1}); out != true || err != nil {
		t.Errorf("static check: got %v, %v; want true", out, err)
	}
	env := map[string]any{"run": map[string]any{"id": "r"}}
	c, _, err := w.Steps[1].Decode(env, nil)
	if err != nil {
		t.Fatal(err)
	}
	d, _, _ := w.Steps[1].Decode(env, nil)
	if c == d {
		t.Error("a configuration with expressions was shared between decodes")
	}
}
