package exec

import (
	"os"
	"runtime"

	"github.com/flowrun/flowrun/pkg/spec"
)

// maxWorkers bounds how many items of the run can be in flight at once:
// the sum of every block's workers (blocks may run side by side), plus
// one per single step. A connection pool shared by the run is sized to it.
// It is 0, unknown, when a block's workers: is an expression: its value is
// known only when the block starts, long after the pool was made, and a
// guess (the default) would cap a 200-worker load test at a few
// connections.
func maxWorkers(wf *spec.Workflow, opts Options) int {
	def := opts.Workers
	if def <= 0 {
		def = runtime.NumCPU()
	}
	n := 0
	for _, s := range append(append([]*spec.Step{}, wf.Steps...), wf.Finally...) {
		if s.Parallel != nil && s.Parallel.WorkersExpr != nil {
			return 0
		}
		if s.Callee != nil {
			w := callWidth(s, def, opts)
			if w == 0 {
				return 0
			}
			n += w
			continue
		}
		switch {
		case s.Parallel == nil:
			n++
		case s.Parallel.Workers > 0:
			n += s.Parallel.Workers
		default:
			n += def
		}
	}
	return n
}

// hooks are the knobs tests turn, per run rather than as package
// variables, so that tests may run in parallel.
type hooks struct {
	// kept replaces spec.DefaultKeptResults when above 0.
	kept int64
	// sync replaces (*os.File).Sync for results files when set.
	sync func(*os.File) error
}

func (h hooks) keptLimit() int64 {
	if h.kept > 0 {
		return h.kept
	}
	return spec.DefaultKeptResults
}

func (h hooks) syncFile() func(*os.File) error {
	if h.sync != nil {
		return h.sync
	}
	return (*os.File).Sync
}
