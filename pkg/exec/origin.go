package exec

import "slices"

// origin places a run under the run that flowrun apply started, so that a
// Dispatcher sending a block elsewhere can name it and rebuild its
// environment there (Job.RunID, Job.Path, Job.Env). A workflow called by a
// single uses: step inherits its caller's Dispatcher and extends its
// origin; one called by an item of a parallel block runs its blocks where
// that item runs, in the local pool, since every item would otherwise
// send a block of the same name.
type origin struct {
	runID string   // the top-level run's id
	path  []string // the single uses: steps from the top workflow down to this one
	env   []string // NAME=value added to the process environment, in order
}

// newOrigin is the origin of a run whose workflow env: added added to the
// environment; parent is the caller's (nil for a top-level run).
func newOrigin(parent *origin, runID string, added []string) *origin {
	if parent == nil {
		return &origin{runID: runID, env: slices.Clone(added)}
	}
	return &origin{runID: parent.runID, path: parent.path, env: append(slices.Clip(parent.env), added...)}
}

// callee is the origin of the workflow that the single uses: step id
// calls with the child environment env, which extends base (the caller's
// ItemRunner.Environ) with the step's env:.
func (o *origin) callee(id string, base, env []string) *origin {
	added := []string(nil)
	if len(env) > len(base) {
		added = env[len(base):]
	}
	return &origin{runID: o.runID, path: append(slices.Clip(o.path), id), env: append(slices.Clip(o.env), added...)}
}
