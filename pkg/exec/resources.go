package exec

import (
	"os"
	"runtime"
	"time"

	"github.com/flowrun/flowrun/pkg/spec"
)

// maxWorkers bounds how many items of the run can be in flight at once:
// the sum of every block's workers (blocks may run side by side), plus
// one per single step. A connection pool shared by the run is sized to it.
//
// A block whose workers: is an expression counts with its value when the
// expression reads only what is fixed before any step starts — inputs,
// env, run.id: vars, the run's variables without steps — and makes the
// bound 0, unknown, when it reads a step's result (or vars is nil): its
// value is known only when the block starts, long after the pool was made,
// and a guess would either cap a 200-worker load test at a few connections
// or be no bound at all. A finally step's expression is unknown too: it
// may read run.status, which changes before finally steps run.
func maxWorkers(wf *spec.Workflow, opts Options, vars map[string]any) int {
	def := opts.Workers
	if def <= 0 {
		def = runtime.NumCPU()
	}
	n := 0
	for _, s := range append(append([]*spec.Step{}, wf.Steps...), wf.Finally...) {
		if s.Parallel != nil && s.Parallel.WorkersExpr != nil {
			w := constantWorkers(s, vars)
			if w == 0 {
				return 0
			}
			if s.Callee != nil {
				c := maxWorkers(s.Callee, opts, nil)
				if c == 0 {
					return 0
				}
				w *= c
			}
			n += w
			continue
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

// constantWorkers is the value of a block's workers: expression when it
// is fixed for the whole run (see maxWorkers), else 0. A value that is not
// a positive integer is 0 too: the block fails when it starts, saying so.
func constantWorkers(s *spec.Step, vars map[string]any) int {
	x := s.Parallel.WorkersExpr
	if vars == nil || s.Finally || len(x.Refs) > 0 || x.ReadsAllSteps {
		return 0
	}
	v, err := x.Eval(vars)
	if n, ok := v.(int); err == nil && ok && n > 0 {
		return min(n, spec.MaxWorkers)
	}
	return 0
}

// hooks are the knobs tests turn, per run rather than as package
// variables, so that tests may run in parallel.
type hooks struct {
	// kept replaces spec.DefaultKeptResults when above 0.
	kept int64
	// sync replaces (*os.File).Sync for results files when set.
	sync func(*os.File) error
	// flush replaces fileEvery, the results file's flush interval, when
	// above 0.
	flush time.Duration
}

func (h hooks) flushEvery() time.Duration {
	if h.flush > 0 {
		return h.flush
	}
	return fileEvery
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
