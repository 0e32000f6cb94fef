package durable

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/state"
)

// Resumption is a recorded run that may be resumed: found, and checked
// against the workflow about to run, but not yet locked or changed.
type Resumption struct {
	// ID is the run's id; Run its record as run.json holds it.
	ID  string
	Run *state.Run
	// Inputs are the inputs to run with: the run's own, and its secret
	// ones as given again (checked against their keyed hashes).
	Inputs map[string]any

	dir *state.Dir
	wf  *spec.Workflow
	now *state.Run
}

// AlreadySucceeded is PrepareResume's error for a run that succeeded:
// there is nothing to resume, which is not a failure.
// Latest is set when no id was given and every recorded run of the
// workflow succeeded; ID is then the latest.
type AlreadySucceeded struct {
	ID     string
	Latest bool
}

func (e *AlreadySucceeded) Error() string {
	if e.Latest {
		return fmt.Sprintf("every recorded run of this workflow succeeded (the latest: %s): nothing to resume", e.ID)
	}
	return fmt.Sprintf("run %s already succeeded: nothing to resume", e.ID)
}

// latest returns the newest recorded run of the workflow file, or nil.
func latest(d *state.Dir, file string) *state.Info {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil
	}
	infos, err := d.List()
	if err != nil {
		return nil
	}
	for _, in := range infos {
		if in.Run != nil && in.Run.Workflow == abs {
			return in
		}
	}
	return nil
}

// Mismatch is PrepareResume's error for a run recorded with other files
// or inputs than those about to run: resuming it would mix two runs.
type Mismatch struct {
	ID      string
	Changes []string // what differs, one sentence each (state.Run.Diff)
}

func (e *Mismatch) Error() string {
	return fmt.Sprintf("run %s cannot be resumed: it ran with other files or inputs:\n  %s\nstart a new run (without --resume), or restore what changed",
		e.ID, strings.Join(e.Changes, "\n  "))
}

// InputError is PrepareResume's error when the inputs cannot be resolved
// (a secret input not given again, an unknown --set name).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// PrepareResume finds the run to resume and checks it against wf, the
// workflow loaded now, without locking or changing anything: id names it
// (a prefix does; an unknown id names the closest), or, when empty, it is
// the latest run of the same workflow file that did not succeed.
//
// The run's inputs are its own: set (the --set values) may repeat them,
// and must then agree; secret inputs, stored only as keyed hashes, must
// be given again (--set, their environment variable or their default) and
// hash the same with key. The errors a caller tells apart:
// *AlreadySucceeded, *Mismatch (the workflow, a callee or an input
// differs: nothing may run) and *InputError.
func PrepareResume(d *state.Dir, id string, wf *spec.Workflow, set map[string]any, key mask.Key) (*Resumption, error) {
	var info *state.Info
	var err error
	if id == "" {
		if info, err = d.LatestUnfinished(wf.File); err != nil {
			if last := latest(d, wf.File); last != nil {
				return nil, &AlreadySucceeded{ID: last.ID, Latest: true}
			}
			return nil, err
		}
	} else if id, err = d.Resolve(id); err == nil {
		info, err = d.Get(id)
	}
	if err != nil {
		return nil, err
	}
	rec := info.Run
	if rec == nil {
		return nil, fmt.Errorf("run %s cannot be resumed: %v", info.ID, info.Err)
	}
	if info.Status == state.StatusSucceeded {
		return nil, &AlreadySucceeded{ID: info.ID}
	}
	// The files first: with another workflow, the inputs may not even
	// resolve, and that would hide what changed.
	files, err := NewRun(wf, nil, key)
	if err != nil {
		return nil, err
	}
	files.Inputs, files.SecretInputs = rec.Inputs, rec.SecretInputs
	if diff := rec.Diff(files); len(diff) > 0 {
		return nil, &Mismatch{ID: info.ID, Changes: diff}
	}
	merged := make(map[string]any, len(rec.Inputs)+len(set))
	for name, v := range rec.Inputs {
		merged[name] = spec.Normalize(v)
	}
	for _, in := range wf.Inputs {
		// A number run.json holds as "NaN", "+Inf" or "-Inf".
		if s, ok := merged[in.Name].(string); ok && in.Type == "number" {
			if f, err := strconv.ParseFloat(s, 64); err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
				merged[in.Name] = f
			}
		}
	}
	for name, v := range set {
		merged[name] = v
	}
	inputs, err := wf.ResolveInputs(merged)
	if err != nil {
		return nil, &InputError{err}
	}
	now, err := NewRun(wf, inputs, key)
	if err != nil {
		return nil, err
	}
	if diff := rec.Diff(now); len(diff) > 0 {
		return nil, &Mismatch{ID: info.ID, Changes: diff}
	}
	return &Resumption{ID: info.ID, Run: rec, Inputs: inputs, dir: d, wf: wf, now: now}, nil
}

// Open starts the resume: it takes the run's lock (a run being run or
// resumed by another process is refused: state.ErrLocked), replays its
// journal (a damaged one is refused: *state.JournalError), marks the run
// running again and returns the Journal that records this attempt and
// restores what earlier ones did. m masks what it writes; warn receives
// warnings for the person running it (items matched by position).
func (p *Resumption) Open(m *mask.Masker, warn func(string)) (*Journal, error) {
	s, rp, err := p.dir.Resume(p.ID)
	if err != nil {
		return nil, err
	}
	// run.json is the same run's: it cannot have changed since
	// PrepareResume read it without being replaced by hand.
	if diff := s.Run.Diff(p.now); len(diff) > 0 {
		return nil, errors.Join(&Mismatch{ID: p.ID, Changes: diff}, s.Close())
	}
	key, err := mask.LoadKey(p.dir.Path())
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	j := newJournal(s, rp, m, key, warn)
	for _, st := range p.wf.Steps {
		blk := st.Parallel
		if blk == nil || blk.Key != nil || blk.ItemsFrom == nil {
			continue
		}
		if b := rp.Block(st.ID); b != nil && b.Len() > 0 {
			j.warnf("step %q: its items come from items_from %s and have no key:, so they are matched to the run's journal by position: if the file changed since, results belong to other items (give the block a key:)",
				st.ID, blk.ItemsFrom.File)
		}
	}
	return j, nil
}
