package durable

import (
	"path/filepath"
	"slices"

	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/state"
	"github.com/flowrun/flowrun/pkg/steps"
)

// NewRun returns the record of a new run of wf with its resolved inputs:
// the workflow's absolute path, the sha256 of the bytes it was parsed
// from and of every file it calls through uses: (directly or not), the
// inputs, secret ones as key's keyed hashes. The caller sets
// FlowrunVersion; state.Dir.Create sets the rest.
func NewRun(wf *spec.Workflow, inputs map[string]any, key mask.Key) (*state.Run, error) {
	abs, err := filepath.Abs(wf.File)
	if err != nil {
		return nil, err
	}
	secret := func(name string) bool {
		for _, in := range wf.Inputs {
			if in.Name == name {
				return in.Secret
			}
		}
		return false
	}
	plain, hashed, err := state.SplitInputs(inputs, secret, func(_ string, v any) (string, error) { return key.Sum(v), nil })
	if err != nil {
		return nil, err
	}
	// NaN and ±Inf (--set x=.nan) as run.json can hold them: strings,
	// which PrepareResume reads back into numbers.
	plain, _ = steps.NonFinite(plain, "", nil).(map[string]any)
	return &state.Run{
		Workflow:       abs,
		WorkflowSHA256: state.HashBytes(wf.Source),
		Callees:        Callees(wf),
		Inputs:         plain,
		SecretInputs:   hashed,
	}, nil
}

// Callees returns the sha256 of every workflow file wf calls through
// uses:, directly or through other callees, by its path relative to wf's
// directory (absolute when that cannot be said); nil when it calls none.
// Each hash is of the bytes the callee was parsed from.
func Callees(wf *spec.Workflow) map[string]string {
	root, err := filepath.Abs(wf.Dir)
	if err != nil {
		root = wf.Dir
	}
	var out map[string]string
	seen := map[*spec.Workflow]bool{wf: true}
	var walk func(w *spec.Workflow)
	walk = func(w *spec.Workflow) {
		for _, s := range slices.Concat(w.Steps, w.Finally) {
			c := s.Callee
			if c == nil || seen[c] {
				continue
			}
			seen[c] = true
			name, err := filepath.Abs(c.File)
			if err == nil {
				if rel, err := filepath.Rel(root, name); err == nil {
					name = rel
				}
			} else {
				name = c.File
			}
			if out == nil {
				out = map[string]string{}
			}
			out[filepath.ToSlash(name)] = state.HashBytes(c.Source)
			walk(c)
		}
	}
	walk(wf)
	return out
}
