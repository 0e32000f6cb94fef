package spec

import (
	"bytes"
	"encoding/json"
	"maps"
)

// Scope is what expressions read when a workflow runs: `inputs`, `env`,
// `steps.<id>` and `run`. Inside a parallel block an item adds its
// variable and `index` (ItemVars).
//
// A Scope is plain data. Encoded with encoding/json and decoded again it
// evaluates every expression as the original does, which is how the scope
// of a block reaches a worker on another machine; whole numbers come back
// as int and other numbers as float64, as from any JSON (Normalize).
type Scope struct {
	// Inputs are the workflow's resolved inputs.
	Inputs map[string]any `json:"inputs"`
	// Env is the workflow's env:, evaluated (string values).
	Env map[string]any `json:"env"`
	// Steps holds steps.<id> for the steps an expression may read: those
	// the step depends on.
	Steps map[string]any `json:"steps"`
	// Run is run.id and run.status.
	Run RunInfo `json:"run"`
}

// RunInfo is `run` in expressions.
type RunInfo struct {
	ID string `json:"id"`
	// Status is the run's status so far: running, then, for finally
	// steps, the main steps' outcome.
	Status string `json:"status"`
}

// Vars returns the scope as the variables expressions are evaluated
// against. The maps are shared with the scope, not copied.
func (s *Scope) Vars() map[string]any {
	return map[string]any{
		"inputs": orEmpty(s.Inputs),
		"env":    orEmpty(s.Env),
		"steps":  orEmpty(s.Steps),
		"run":    map[string]any{"id": s.Run.ID, "status": s.Run.Status},
	}
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// ItemVars returns vars (from Vars) plus one item of a parallel block:
// its variable, named as, and index. vars is not modified.
func ItemVars(vars map[string]any, as string, index int, item any) map[string]any {
	out := make(map[string]any, len(vars)+2)
	maps.Copy(out, vars)
	out[as] = item
	out["index"] = index
	return out
}

// UnmarshalJSON decodes a scope encoded with encoding/json, numbers
// normalized as in expressions (Normalize), not all float64.
func (s *Scope) UnmarshalJSON(b []byte) error {
	type plain Scope
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	for _, m := range []map[string]any{p.Inputs, p.Env, p.Steps} {
		Normalize(m)
	}
	*s = Scope(p)
	return nil
}
