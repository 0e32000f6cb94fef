package exec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/flowrun/flowrun/pkg/spec"
)

// fileClaims are the files a run and the workflows it calls read and
// write, shared by every sub-run of one top-level run. The loader reports
// the conflicts between literal paths (spec.Conflict); a path that only
// the run knows — results_file: ${{ inputs.out }} in a workflow called
// once per item — is claimed when its run starts and checked against
// every use so far, so that two calls never write one file and no call
// overwrites a file the run reads. Claims last as long as the top-level
// run: a later call that writes the same file would truncate the results
// of an earlier one.
type fileClaims struct {
	mu     sync.Mutex
	byPath map[string][]*spec.FileUse
	// state is the run's state directory, no results_file's place.
	state stateDir
}

// newFileClaims returns the claims of a run of wf: the files it and its
// callees use with literal paths, and reports, written when the run ends;
// stateDir is Options.StateDir.
func newFileClaims(wf *spec.Workflow, reports []string, stateDir string) *fileClaims {
	c := &fileClaims{byPath: make(map[string][]*spec.FileUse), state: newStateDir(stateDir)}
	for _, u := range wf.FileUses() {
		c.byPath[u.Path] = append(c.byPath[u.Path], u)
	}
	for _, r := range reports {
		u := &spec.FileUse{Path: spec.CleanPath(r), Write: true, What: "the --report " + r}
		c.byPath[u.Path] = append(c.byPath[u.Path], u)
	}
	return c
}

// claim adds u, or returns why it conflicts with a use claimed before.
// A nil fileClaims claims anything (a run on a cluster worker, whose
// coordinator keeps the claims).
func (c *fileClaims) claim(u *spec.FileUse) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if why := spec.Conflict(u, u); why != "" {
		return errors.New(why)
	}
	for _, o := range c.byPath[u.Path] {
		if why := spec.Conflict(u, o); why != "" {
			return errors.New(why)
		}
	}
	c.byPath[u.Path] = append(c.byPath[u.Path], u)
	return nil
}

// prepareFiles decides the path of every results_file of the workflow
// before its first step — evaluating those computed from inputs and run —
// claims it, makes its directory and checks that it can be written, so
// that a run never fails on its results file after hours of work. The
// items_from files computed from inputs and run are claimed too, as files
// the run reads (a finally step's may read run.status, known later: the
// block checks it when it starts). It returns the first problem, with
// the position and the path tried.
func (r *run) prepareFiles() error {
	vars := r.scope(nil).Vars()
	for _, s := range r.wf.Steps {
		if s.Parallel == nil || s.Parallel.ItemsFrom == nil || s.Parallel.ItemsFrom.Expr == nil {
			continue
		}
		src, err := s.Parallel.ItemsFrom.Resolve(vars)
		if err != nil {
			continue // the block reports it when it starts
		}
		u := &spec.FileUse{Path: spec.CleanPath(src.Path), What: fmt.Sprintf("items_from of step %q", s.ID), Pos: src.Pos,
			Chain: append(slices.Clip(r.opts.chain), spec.CallSite{WF: r.wf, Step: s, Item: -1})}
		if err := r.claims.claim(u); err != nil {
			return fmt.Errorf("%s: step %q: items_from %s: %v", src.Pos, s.ID, src.Path, err)
		}
	}
	for _, s := range append(slices.Clip(r.wf.Steps), r.wf.Finally...) {
		if s.Parallel == nil || s.Parallel.ResultsFile == nil {
			continue
		}
		rf := s.Parallel.ResultsFile
		path, err := rf.Resolve(vars)
		if err != nil {
			return fmt.Errorf("%s: step %q: results_file: %w", rf.Pos, s.ID, err)
		}
		u := &spec.FileUse{Path: spec.CleanPath(path), Write: true, What: fmt.Sprintf("results_file of step %q", s.ID), Pos: rf.Pos,
			Chain: append(slices.Clip(r.opts.chain), spec.CallSite{WF: r.wf, Step: s, Item: -1})}
		if r.claims != nil {
			// Before writable, which makes the file's directory.
			if err := r.claims.state.refuse(u); err != nil {
				return err
			}
		}
		if rf.Expr != nil {
			if err := r.claims.claim(u); err != nil {
				return fmt.Errorf("%s: step %q: results_file %s: %v", rf.Pos, s.ID, path, err)
			}
		}
		if err := writable(path); err != nil {
			return fmt.Errorf("%s: step %q: results_file %s: %v", rf.Pos, s.ID, path, err)
		}
		r.resultsPaths[s.ID] = path
	}
	return nil
}

// writable makes the directory of the file at path and checks that the
// file can be written there, without touching the file itself: its
// block, which truncates it, may never run.
func writable(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot make its directory: %w", unwrapPath(err))
	}
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return errors.New("is a directory")
	case err == nil && !st.Mode().IsRegular():
		return nil // a FIFO, /dev/null: opened as it is when the block starts
	case err == nil:
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("cannot be written: %w", unwrapPath(err))
		}
		return f.Close()
	case !errors.Is(err, fs.ErrNotExist):
		return unwrapPath(err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".probe-*")
	if err != nil {
		return fmt.Errorf("cannot be created in %s: %w", dir, unwrapPath(err))
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// unwrapPath drops the operation and path an *fs.PathError repeats: the
// message names the path already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
