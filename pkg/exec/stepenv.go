package exec

import (
	"maps"

	"github.com/flowrun/flowrun/pkg/spec"
)

// A step's env: sets variables of its child processes and, as env.NAME,
// values its action reads (its configuration, a uses step's with:), over
// the workflow's env:. Its entries read the workflow's env:, as do the
// step's if: and parallel: settings (spec: envscope.go says the same for
// validation). An entry may read the item, and is then evaluated per item.

// stepEnviron evaluates the step's env: in scope (the step's or an
// item's) and returns the child environment, base with the step's
// variables appended, and the variables as env.NAME values (nil when the
// step has no env:).
func stepEnviron(base []string, s *spec.Step, scope map[string]any) ([]string, map[string]any, error) {
	if len(s.Env) == 0 {
		return base, nil, nil
	}
	out := make([]string, len(base), len(base)+len(s.Env))
	copy(out, base)
	own := make(map[string]any, len(s.Env))
	for _, e := range s.Env {
		v, err := e.Value.Eval(scope)
		if err != nil {
			return nil, nil, err
		}
		text := spec.Text(v)
		out = append(out, e.Name+"="+text)
		own[e.Name] = text
	}
	return out, own, nil
}

// withStepEnv returns scope with own over its env, as a copy; scope itself
// when own is empty.
func withStepEnv(scope map[string]any, own map[string]any) map[string]any {
	if len(own) == 0 {
		return scope
	}
	env := make(map[string]any)
	if wf, ok := scope["env"].(map[string]any); ok {
		maps.Copy(env, wf)
	}
	maps.Copy(env, own)
	out := maps.Clone(scope)
	out["env"] = env
	return out
}

// actionScope returns the scope the step's action reads for one item (an
// index of -1 for a single step): its variables, the item's, and the
// step's env: over env; and the item's child environment.
func (b *BoundStep) actionScope(index int, item any) (map[string]any, []string, error) {
	if b.environ != nil { // the step's env: does not read the item
		if !b.perItemScope || index < 0 {
			return b.action, b.environ, nil
		}
		return spec.ItemVars(b.action, b.step.Parallel.As, index, item), b.environ, nil
	}
	sc := b.itemScope(index, item)
	env, own, err := stepEnviron(b.ir.Environ, b.step, sc)
	if err != nil {
		return nil, nil, err
	}
	return withStepEnv(sc, own), env, nil
}
