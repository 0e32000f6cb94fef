package spec

import (
	"github.com/expr-lang/expr/types"
)

// scope says which names an expression may use.
type scope struct {
	inputs  []*Input
	steps   []string        // every step id in the file
	stepSet map[string]bool // the same ids, for lookups
	itemVar string          // "" outside a parallel block
	// blockItem is the step's item variable where it is out of scope
	// (the step's if:, evaluated once before any item).
	blockItem string
	// allowItems is false where the item variable is not yet defined
	// (the parallel block's own items).
	allowItems bool
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
		stepsEnv[id] = stepValueType
	}
	env := types.Map{
		"inputs": inputs,
		"env":    types.Map{types.Extra: types.String},
		"steps":  stepsEnv,
		"run":    types.Map{"id": types.String, "status": types.String},
	}
	if s.itemVar != "" && s.allowItems {
		env[s.itemVar] = types.Any
		env["index"] = types.Int
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

// stepValueType is the shape of steps.<id>, as pkg/exec fills it.
var stepValueType = types.Map{
	"status":  types.String,
	"output":  types.Any,
	"outputs": types.Array(types.Any),
	"results": types.Array(types.Map{
		"index": types.Int, "key": types.String, "status": types.String, "output": types.Any,
		"error": types.String, "attempts": types.Int, "duration_ms": types.Float64,
	}),
	"summary": types.Map{
		"total": types.Int, "succeeded": types.Int, "failed": types.Int, "skipped": types.Int,
		"cancelled": types.Int, "workers": types.Int, "p50_ms": types.Float64, "p95_ms": types.Float64,
		"p99_ms": types.Float64, "max_ms": types.Float64, "items_per_sec": types.Float64, "duration_ms": types.Float64,
	},
}
