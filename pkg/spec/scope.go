package spec

import (
	"maps"

	"github.com/expr-lang/expr/types"
)

// scope says which names an expression may use.
type scope struct {
	inputs  []*Input
	steps   []string        // every step id in the file
	stepSet map[string]bool // the same ids, for lookups
	itemVar string          // "" outside a parallel block
	// item is what the item holds when it is known (a matrix's keys);
	// nil when it may be anything.
	item *itemShape
	// blockItem is the step's item variable where it is out of scope
	// (the step's if:, evaluated once before any item).
	blockItem string
	// allowItems is false where the item variable is not yet defined
	// (the parallel block's own items).
	allowItems bool
	// outputs are the types of steps' outputs known before they run; nil
	// until every step is loaded (output.go).
	outputs map[string]types.Type
	// envs are the env.NAME the expression may read (envscope.go).
	envs envScope
	// pathOf names the path being compiled (items_from, results_file):
	// it reads inputs and run only, known before any step runs.
	pathOf string
	// statusFuncs is set in if:, the only place that may call always(),
	// success(), failure() and cancelled() (status.go).
	statusFuncs bool
}

// hasStep reports whether id is a step of the file.
func (s *scope) hasStep(id string) bool {
	if s.stepSet != nil {
		return s.stepSet[id]
	}
	return contains(s.steps, id)
}

// stepFields are the fields of steps.<id>.
var stepFields = []string{"status", "output", "outputs", "results", "summary"}

// env is the type environment expressions are checked against. At run
// time the same names hold plain maps, lists and scalars. Only the steps in
// refs are typed, unless all is set: the cost of checking an expression
// must not grow with the number of steps in the file.
func (s *scope) env(refs []string, all bool) types.Map {
	inputs := types.Map{}
	for _, in := range s.inputs {
		inputs[in.Name] = inputType(in.Type)
	}
	if all {
		refs = s.steps
	}
	stepsEnv := types.Map{}
	for _, id := range refs {
		stepsEnv[id] = s.stepType(id)
	}
	env := types.Map{
		"inputs": inputs,
		"env":    types.Map{types.Extra: types.String},
		"steps":  stepsEnv,
		"run":    types.Map{"id": types.String, "status": types.String},
	}
	if s.pathOf != "" {
		delete(env, "env")
		delete(env, "steps")
	}
	if s.itemVar != "" && s.allowItems {
		env[s.itemVar] = types.Any
		if s.item != nil {
			env[s.itemVar] = s.item.typ()
		}
		env["index"] = types.Int
	}
	if s.statusFuncs {
		addStatusFuncs(env)
	}
	return env
}

func inputType(t string) types.Type {
	switch t {
	case "integer":
		return types.Int
	case "number":
		return types.Float64
	case "boolean":
		return types.Bool
	case "list":
		return types.Array(types.Any)
	case "object":
		return types.Map{types.Extra: types.Any}
	}
	return types.String
}

// stepType is the type of steps.<id>: stepValueType, with the output's
// type where it is known.
func (s *scope) stepType(id string) types.Type {
	out, ok := s.outputs[id]
	if !ok {
		return stepValueType
	}
	v := maps.Clone(stepValueType)
	result := maps.Clone(resultType)
	result["output"] = out
	v["output"], v["outputs"], v["results"] = out, types.Array(out), types.Array(result)
	return v
}
