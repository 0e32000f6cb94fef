package spec

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/internal/suggest"
	"github.com/flowrun/flowrun/pkg/steps"
)

// Step is one step of a workflow.
type Step struct {
	// ID identifies the step: [A-Za-z_][A-Za-z0-9_]*.
	ID   string
	Name string
	// Pos is the position of the step's mapping in the file.
	Pos Pos
	// Type is the step's action key ("run", "http", "acme.notify"), or
	// "uses" for a call of another workflow file.
	Type    string
	TypePos Pos
	// Info is the registered step type; zero for "uses".
	Info steps.Info
	// Config is the action's configuration, the value under Type.
	Config *Value
	// Needs are the explicit dependencies, Deps all of them: explicit ones
	// and those inferred from steps.<id> references, in file order.
	Needs []string
	Deps  []Dep
	// If is the step's condition, or nil.
	If       *Expr
	Env      []*EnvVar
	Timeout  time.Duration
	Retry    Retry
	Parallel *Parallel
	// Output is how a text output is read: "text", "json" or "lines".
	Output string
	// Uses is the workflow file a "uses" step calls; With its inputs.
	Uses string
	With *Value
	// Callee is the loaded workflow Uses names; nil when it is invalid.
	Callee *Workflow
	// Finally marks a step of the finally: list.
	Finally bool
}

// Dep is one dependency of a step.
type Dep struct {
	ID string
	// Explicit is true for needs:, false for an inferred reference.
	Explicit bool
	// Order is true for a dependency only on the order of the steps: a
	// step that reads steps whole waits for every step above it (dag.go),
	// but what became of them does not skip it.
	Order bool
	Pos   Pos
}

// Retry says how often and how patiently a failed attempt is retried.
type Retry struct {
	// Attempts counts the first try: 1 means no retry.
	Attempts   int
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// Default retry backoffs.
const (
	DefaultBackoff    = 500 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
)

// OutputFormats are the values of a step's output: key.
var OutputFormats = []string{"text", "json", "lines"}

// StepKeys are the keys a step may have besides its action key.
var StepKeys = []string{"id", "name", "needs", "if", "env", "timeout", "retry", "parallel", "output", "uses", "with"}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// stepIDs collects the ids of a step list before the steps are parsed.
func (p *loader) stepIDs(n *yaml.Node) []string {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	var ids []string
	for _, s := range n.Content {
		s = deref(s)
		if s.Kind != yaml.MappingNode {
			continue
		}
		for i := 0; i+1 < len(s.Content); i += 2 {
			if s.Content[i].Value == "id" {
				ids = append(ids, s.Content[i+1].Value)
			}
		}
	}
	return ids
}

func (p *loader) stepList(n *yaml.Node, what string, finally bool) []*Step {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, n.Column, "write each step as a list entry starting with `- id:`", "%s must be a list of steps, not %s", what, kindName(n))
		return nil
	}
	if len(n.Content) == 0 && !finally {
		p.errorf(n.Line, n.Column, "", "the workflow has no steps")
	}
	var out []*Step
	seen := make(map[string]*Step)
	for _, sn := range n.Content {
		s := p.step(deref(sn), finally)
		if s == nil {
			continue
		}
		if prev := seen[s.ID]; prev != nil || p.wf.Step(s.ID) != nil {
			if prev == nil {
				prev = p.wf.Step(s.ID)
			}
			p.errorf(s.Pos.Line, s.Pos.Column, fmt.Sprintf("first used at line %d", prev.Pos.Line), "duplicate step id %q", s.ID)
			continue
		}
		if s.ID != "" {
			seen[s.ID] = s
		}
		out = append(out, s)
	}
	return out
}

func (p *loader) step(n *yaml.Node, finally bool) *Step {
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, n.Column, "a step is a mapping such as `{id: hello, run: echo hi}`", "a step must be a mapping, not %s", kindName(n))
		return nil
	}
	s := &Step{Pos: Pos{p.file, n.Line, n.Column}, Finally: finally, Output: "text", Retry: Retry{Attempts: 1, Backoff: DefaultBackoff, MaxBackoff: DefaultMaxBackoff}}
	// Keys that are not step keys are action keys: registered step types.
	known := append(append([]string{}, StepKeys...), p.reg.Names()...)
	f := p.fields(n, "step", nil)
	var actions []field
	unknownKeys := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		pair, ok := f[k.Value]
		if !ok || pair.key != k {
			continue
		}
		switch {
		case contains(StepKeys, k.Value) && k.Value != "uses":
		case k.Value == "uses" || p.reg.Has(k.Value):
			actions = append(actions, pair)
		default:
			detail := p.fieldOfTypes(k.Value, n)
			if detail == "" {
				detail = didYouMean(suggest.Closest(k.Value, known))
			}
			if detail == "" {
				detail = "step keys: " + strings.Join(StepKeys, ", ") + "; step types: " + strings.Join(p.reg.Names(), ", ")
			}
			p.errorf(k.Line, k.Column, detail, "unknown key %q in step (not a step key nor a registered step type)", k.Value)
			unknownKeys = true
		}
	}
	if v, ok := f["id"]; ok {
		if id, ok := p.str(deref(v.value), "id"); ok {
			if !identifier.MatchString(id) {
				p.errorf(v.value.Line, v.value.Column, "ids are identifiers: a letter or _, then letters, digits or _ (no dashes)", "invalid step id %q", id)
			}
			s.ID = id
		}
	} else {
		p.errorf(n.Line, n.Column, "give every step a unique `id:`", "step has no id")
	}
	if v, ok := f["name"]; ok {
		s.Name, _ = p.str(deref(v.value), "name")
	}

	// The item variable is in scope for everything evaluated per item.
	sc := p.sc
	// The step's env: is read by its action only (envscope.go).
	stepEnv := envKeys(nodeOf(f, "env"))
	if own := without(stepEnv, sc.envs.names); len(own) > 0 {
		sc = p.withEnv(sc, sc.envs.names, hide(own, fmt.Sprintf(
			"the step's own env: is read by its action (%s:, with: ...) only; if:, parallel: and env: read the workflow's env:", actionName(n, p.reg))))
	}
	if v, ok := f["parallel"]; ok {
		s.Parallel = p.parallel(deref(v.value), &sc)
		if s.Parallel != nil {
			sc.itemVar, sc.allowItems, sc.item = s.Parallel.As, true, s.Parallel.shape()
		}
	}
	if v, ok := f["if"]; ok {
		ifScope := sc
		ifScope.itemVar, ifScope.blockItem = "", sc.itemVar
		ifScope.statusFuncs = true
		if n := deref(v.value); n.Kind != yaml.ScalarNode {
			p.errorf(n.Line, n.Column, "", "if must be an expression, not %s", kindName(n))
		} else {
			s.If = p.condition(n, &ifScope, p.src)
		}
	}
	if v, ok := f["needs"]; ok {
		for _, e := range p.stringList(deref(v.value), "needs") {
			s.Needs = append(s.Needs, e.Value)
			s.Deps = append(s.Deps, Dep{ID: e.Value, Explicit: true, Pos: Pos{p.file, e.Line, e.Column}})
		}
	}
	if v, ok := f["env"]; ok {
		s.Env = p.env(deref(v.value), func(string) *scope { return &sc })
	}
	actionScope := sc
	if len(stepEnv) > 0 {
		actionScope = p.withEnv(sc, append(slices.Clone(p.sc.envs.names), stepEnv...), nil)
	}
	if v, ok := f["timeout"]; ok {
		s.Timeout = p.duration(deref(v.value), "timeout")
	}
	if v, ok := f["retry"]; ok {
		p.retry(deref(v.value), &s.Retry)
	}
	if v, ok := f["output"]; ok {
		if o, ok := p.str(deref(v.value), "output"); ok {
			if !contains(OutputFormats, o) {
				p.errorf(v.value.Line, v.value.Column, unknownKeyDetail(o, OutputFormats), "unknown output format %q", o)
			} else {
				s.Output = o
			}
		}
	}

	switch len(actions) {
	case 0:
		if unknownKeys {
			break // most likely the action, misspelled: reported above
		}
		p.errorf(n.Line, n.Column, "add one of: "+strings.Join(p.reg.Names(), ", ")+", or uses:", "step %q has no action", s.ID)
	case 1:
		p.action(s, actions[0], f, &actionScope)
	default:
		names := make([]string, len(actions))
		for i, a := range actions {
			names[i] = a.key.Value
		}
		sort.Strings(names)
		a := actions[1]
		p.errorf(a.key.Line, a.key.Column, "split it into one step per action", "step %q has more than one action: %s", s.ID, strings.Join(names, ", "))
	}
	if w, ok := f["with"]; ok && s.Type != "uses" {
		p.errorf(w.key.Line, w.key.Column, "with: passes inputs to a workflow called with uses:", "with: without uses:")
	}
	return s
}

func (p *loader) action(s *Step, a field, f map[string]field, sc *scope) {
	s.Type = a.key.Value
	s.TypePos = Pos{p.file, a.key.Line, a.key.Column}
	if s.Type == "uses" {
		s.Uses, _ = p.str(deref(a.value), "uses")
		if w, ok := f["with"]; ok {
			s.With = p.value(deref(w.value), sc)
		}
		p.uses(s, deref(a.value), f)
		return
	}
	info, _ := p.reg.Lookup(s.Type)
	s.Info = info
	s.Config = p.config(a.key, deref(a.value), info, sc)
}

func (p *loader) duration(n *yaml.Node, what string) time.Duration {
	s, ok := p.str(n, what)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		p.errorf(n.Line, n.Column, "write a positive duration such as 500ms, 30s, 5m or 1h30m", "invalid %s %q", what, s)
		return 0
	}
	return d
}

// RetryKeys are the keys of a step's retry: mapping.
var RetryKeys = []string{"attempts", "backoff", "max_backoff"}

func (p *loader) retry(n *yaml.Node, r *Retry) {
	if n.Kind == yaml.ScalarNode {
		r.Attempts = p.positiveInt(n, "retry attempts")
		return
	}
	f := p.fields(n, "retry", RetryKeys)
	if v, ok := f["attempts"]; ok {
		r.Attempts = p.positiveInt(v.value, "attempts")
	}
	if v, ok := f["backoff"]; ok {
		r.Backoff = p.duration(v.value, "backoff")
	}
	if v, ok := f["max_backoff"]; ok {
		r.MaxBackoff = p.duration(v.value, "max_backoff")
	}
	if r.MaxBackoff > 0 && r.Backoff > r.MaxBackoff {
		p.errorf(n.Line, n.Column, "", "backoff %s is longer than max_backoff %s", r.Backoff, r.MaxBackoff)
	}
}

func (p *loader) positiveInt(n *yaml.Node, what string) int {
	var i int
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil || i < 1 {
		p.errorf(n.Line, n.Column, "", "%s must be a positive integer, not %s", what, kindName(n))
		return 1
	}
	return i
}

// fieldOfTypes explains a step key that is a configuration field of some
// step types (kill_grace, headers): it belongs under the action key, the
// step's own when it has one of those types.
func (p *loader) fieldOfTypes(key string, step *yaml.Node) string {
	var types []string
	for _, info := range p.reg.List() {
		for _, f := range info.Fields() {
			if f.Name == key {
				types = append(types, info.Type)
				break
			}
		}
	}
	if len(types) == 0 {
		return ""
	}
	for i := 0; i+1 < len(step.Content); i += 2 {
		if t := step.Content[i].Value; slices.Contains(types, t) {
			example := key + ": ..."
			if info, err := p.reg.Lookup(t); err == nil && info.Shorthand != "" {
				example = info.Shorthand + ": ..., " + example
			}
			return fmt.Sprintf("%s is a field of %s: write it under %s:, as in `%s: {%s}`", key, t, t, t, example)
		}
	}
	return fmt.Sprintf("%s is a field of %s: write it under the action key, as in `%s: {%s: ...}`",
		key, strings.Join(types, ", "), types[0], key)
}
