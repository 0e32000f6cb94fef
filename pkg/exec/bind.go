package exec

import (
	"fmt"

	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// bound is a step ready to run items: whatever does not depend on the item
// is evaluated and decoded once, here, not once per item.
type bound struct {
	step *spec.Step
	// sc is the step's scope; scope, its variables.
	sc    *spec.Scope
	scope map[string]any
	// shared is the decoded step when its configuration does not depend on
	// the item; sharedVars are the script variables it refers to.
	shared     steps.Step
	sharedVars []string
	// environ is the child environment without the item's variables; nil
	// when the step's env: depends on the item.
	environ []string
	base    []string
	// perItemScope is true when anything evaluated per item reads the item.
	perItemScope bool
	kill         <-chan struct{}
}

func (r *run) bind(s *spec.Step, sc *spec.Scope) (*bound, error) {
	scope := sc.Vars()
	b := &bound{step: s, sc: sc, scope: scope, kill: r.opts.Kill, base: r.environ}
	envPerItem := false
	for _, e := range s.Env {
		for _, x := range e.Value.Exprs() {
			envPerItem = envPerItem || x.UsesItem
		}
	}
	// A uses step evaluates its with: per item itself; see call.
	configPerItem := s.Type != "uses" && s.Config.UsesItem
	keyPerItem := s.Parallel != nil && s.Parallel.Key != nil
	b.perItemScope = envPerItem || configPerItem || keyPerItem
	if !envPerItem {
		env, err := stepEnviron(r.environ, s, scope)
		if err != nil {
			return nil, err
		}
		b.environ = env
	}
	if s.Type == "uses" {
		b.shared = r.newCall(s, scope)
	} else if !configPerItem {
		st, vars, err := decode(s, scope)
		if err != nil {
			return nil, err
		}
		b.shared, b.sharedVars = st, vars
	}
	return b, nil
}

// stepEnviron appends the step's env: to the base environment.
func stepEnviron(base []string, s *spec.Step, scope map[string]any) ([]string, error) {
	if len(s.Env) == 0 {
		return base, nil
	}
	out := make([]string, len(base), len(base)+len(s.Env))
	copy(out, base)
	for _, e := range s.Env {
		v, err := e.Value.Eval(scope)
		if err != nil {
			return nil, err
		}
		out = append(out, e.Name+"="+spec.Text(v))
	}
	return out, nil
}

// decode resolves the step's configuration against scope and decodes it.
func decode(s *spec.Step, scope map[string]any) (steps.Step, []string, error) {
	st, vars, err := s.Decode(scope, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %s: %v", s.TypePos, s.Type, err)
	}
	return st, vars, nil
}

// itemScope returns the scope of one item: the step's plus the item
// variable and index.
func (b *bound) itemScope(index int, item any) map[string]any {
	if !b.perItemScope {
		return b.scope
	}
	return spec.ItemVars(b.scope, b.step.Parallel.As, index, item)
}

// instance returns the step value, the shared child environment and the
// item's script variables for one item.
func (b *bound) instance(index int, item any, sc map[string]any) (steps.Step, []string, []string, error) {
	st, vars := b.shared, b.sharedVars
	if st == nil {
		var err error
		if st, vars, err = decode(b.step, sc); err != nil {
			return nil, nil, nil, err
		}
	}
	env := b.environ
	if env == nil {
		var err error
		if env, err = stepEnviron(b.base, b.step, sc); err != nil {
			return nil, nil, nil, err
		}
	}
	return st, env, vars, nil
}
