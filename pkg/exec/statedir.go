package exec

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/flowrun/flowrun/pkg/spec"
)

// stateDir is where the caller records runs, as given and resolved
// (spec.CleanPath); the zero value protects nothing.
type stateDir struct{ given, path string }

func newStateDir(dir string) stateDir {
	if dir == "" {
		return stateDir{}
	}
	return stateDir{given: dir, path: spec.CleanPath(dir)}
}

// refuse returns the error of a results_file u inside the state
// directory, or nil. Both paths are resolved, symlinks and "..", so that
// no spelling of a file there (./x/../.flowrun/runs/ID/journal, a symlink
// to the directory) slips through. A results file there would overwrite
// or interleave with what a run's record holds, and a resume would read
// it back as a journal.
func (d stateDir) refuse(u *spec.FileUse) error {
	if err := d.holds(u.Path); err != nil {
		return fmt.Errorf("%s: %s %w", u.Pos, u.What, err)
	}
	return nil
}

// holds returns the error of a file flowrun would write at path
// (spec.CleanPath) inside the state directory, or nil; the error names
// path, the directory and the fix, and the caller names the file's
// writer before it.
func (d stateDir) holds(path string) error {
	if d.path == "" {
		return nil
	}
	rel, err := filepath.Rel(d.path, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil
	}
	return fmt.Errorf("%s is inside the state directory %s, where flowrun records runs (their journal, run.json and report.json, and the key of secret inputs): "+
		"it would overwrite or interleave with them; write it outside %s%c, or record runs elsewhere with --state-dir",
		path, d.path, strings.TrimSuffix(d.given, string(filepath.Separator)), filepath.Separator)
}

// CheckStateDirFile refuses a file that the caller writes at path, other
// than a results_file (a report), inside the state directory stateDir:
// the error names path resolved (spec.CleanPath: ".." by its text, then
// symlinks, the file's own included), the directory and the fix, and the
// caller names the file's writer before it ("--report r.json: ..."). An
// empty stateDir (a run not recorded) protects nothing. The caller writes
// the file at the path cleaned (filepath.Abs), so that the file written
// is the one checked: "link/../x" opened as written is x beside link's
// target, not beside link.
func CheckStateDirFile(stateDir, path string) error {
	return newStateDir(stateDir).holds(spec.CleanPath(path))
}

// CheckStateDir refuses, before a run of wf with opts, a results_file
// inside opts.StateDir (see Options.StateDir), with an error that names
// the step, the file and the directory: the caller refuses to start the
// run rather than have it fail once recorded. It checks the paths known
// before the run: the literal ones of wf and of the workflows it calls,
// and those wf computes from opts.Inputs and opts.RunID (the run's id,
// which the caller fixes before it calls this). A path it cannot compute
// is left to Run, which reports it, and checks again every results_file
// when it starts the run and each call of a workflow.
func CheckStateDir(wf *spec.Workflow, opts Options) error {
	d := newStateDir(opts.StateDir)
	if d.path == "" {
		return nil
	}
	for _, u := range wf.FileUses() {
		if u.Write {
			if err := d.refuse(u); err != nil {
				return err
			}
		}
	}
	vars := (&spec.Scope{Inputs: opts.Inputs, Run: spec.RunInfo{ID: opts.RunID, Status: string(Running)}}).Vars()
	for _, s := range append(wf.Steps[:len(wf.Steps):len(wf.Steps)], wf.Finally...) {
		if s.Parallel == nil || s.Parallel.ResultsFile == nil || s.Parallel.ResultsFile.Expr == nil {
			continue
		}
		rf := s.Parallel.ResultsFile
		path, err := rf.Resolve(vars)
		if err != nil {
			continue // Run reports it
		}
		u := &spec.FileUse{Path: spec.CleanPath(path), Write: true, What: fmt.Sprintf("results_file of step %q", s.ID), Pos: rf.Pos}
		if err := d.refuse(u); err != nil {
			return err
		}
	}
	return nil
}
