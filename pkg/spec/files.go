package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// FileUse is a file that a run reads or writes: a workflow file, a
// block's items_from (read), a block's results_file or the run's report
// (written). Two uses of one file conflict when a run could destroy what
// it reads or mix what two writers write (Conflict); the loader reports
// the conflicts between literal paths, and a run checks those it learns
// when it starts (paths from expressions) against the rest.
type FileUse struct {
	// Path is absolute and clean, with the symlinks of the part that
	// exists resolved (CleanPath), so that two spellings of one file
	// compare equal.
	Path string
	// Write is true for a file the run writes.
	Write bool
	// What names the use in messages: `results_file of step "fan"`.
	What string
	Pos  Pos
	// Chain leads from the workflow run first down to the step that uses
	// the file: the steps that call workflows through uses:, then the
	// step itself. It is empty for the top workflow's own file and for a
	// report, which enclose every step of the run.
	Chain []CallSite
}

// CallSite is one step on the way from the workflow run first to a file's
// use: Step of workflow WF, in the call of its item Item.
type CallSite struct {
	WF   *Workflow
	Step *Step
	// Item is the item of a parallel block whose call leads on, AnyItem
	// where that is not known (every item's, when the workflow is
	// loaded), or -1 for a step that is not a parallel block.
	Item int
}

// AnyItem is CallSite.Item for any item of a parallel block.
const AnyItem = -2

// Conflict says why a and b, two uses of files in one run, cannot both
// happen, or returns "" when they can: different files, two reads, a
// write and a read that the DAG orders write first, or the same write
// twice (a retried item's). A use conflicts with itself when it stands
// for many writers: a results_file in a workflow that every item of a
// block calls. The reason names b.
func Conflict(a, b *FileUse) string {
	if a.Path != b.Path || !a.Write && !b.Write {
		return ""
	}
	if a == b {
		for _, c := range a.Chain {
			if c.Item == AnyItem {
				return fmt.Sprintf("every item of step %q calls %s, and each call would write it", c.Step.ID, c.Step.Uses)
			}
		}
		return ""
	}
	verb := "reads"
	if b.Write {
		verb = "writes"
	}
	for i := range min(len(a.Chain), len(b.Chain)) {
		ca, cb := a.Chain[i], b.Chain[i]
		switch {
		case ca.Step == cb.Step && ca.Item == cb.Item && ca.Item != AnyItem:
			continue // the same call: look further down
		case ca.Step == cb.Step:
			return fmt.Sprintf("%s %s it too (%s), in another call of step %q", b.What, verb, b.Pos, ca.Step.ID)
		case a.Write && b.Write:
			return fmt.Sprintf("%s writes it too (%s)", b.What, b.Pos)
		}
		w, r := ca, cb
		if !a.Write {
			w, r = cb, ca
		}
		if runsAfter(r.WF, r.Step, w.Step) {
			return "" // the reader starts once the writer is done
		}
		return fmt.Sprintf("%s %s it (%s), and step %q does not wait for step %q", b.What, verb, b.Pos, r.Step.ID, w.Step.ID)
	}
	// One chain holds the other: the same block, or a block and the
	// workflow or report around it.
	if a.Write && b.Write && len(a.Chain) == len(b.Chain) {
		return "" // the same results_file, claimed again by a retry
	}
	return fmt.Sprintf("%s %s it too (%s)", b.What, verb, b.Pos)
}

// runsAfter reports whether step later of wf starts only once step first
// is done: a finally step after every main step, or later depending on
// first through needs: and steps.<id> references.
func runsAfter(wf *Workflow, later, first *Step) bool {
	if later.Finally && !first.Finally {
		return true
	}
	seen := map[string]bool{}
	var walk func(s *Step) bool
	walk = func(s *Step) bool {
		for _, d := range s.Deps {
			if d.ID == first.ID {
				return true
			}
			if !seen[d.ID] {
				seen[d.ID] = true
				if dep := wf.Step(d.ID); dep != nil && walk(dep) {
					return true
				}
			}
		}
		return false
	}
	return walk(later)
}

// maxFileUses bounds the uses FileUses collects: a workflow called from
// many places, each calling others, could multiply them.
const maxFileUses = 10_000

// FileUses returns the files the workflow and those it calls read and
// write whose paths are known before the run: its own and its callees'
// files, literal items_from and results_file paths. A workflow called by
// a parallel block contributes its uses once, for AnyItem.
func (w *Workflow) FileUses() []*FileUse {
	var out []*FileUse
	var walk func(wf *Workflow, chain []CallSite)
	walk = func(wf *Workflow, chain []CallSite) {
		if len(out) >= maxFileUses {
			return
		}
		what := "the workflow file " + wf.File
		out = append(out, &FileUse{Path: CleanPath(wf.File), What: what, Pos: Pos{File: wf.File}, Chain: chain})
		for _, s := range append(slices.Clip(wf.Steps), wf.Finally...) {
			here := append(slices.Clip(chain), CallSite{WF: wf, Step: s, Item: -1})
			item := -1
			if blk := s.Parallel; blk != nil {
				item = AnyItem
				if src := blk.ItemsFrom; src != nil && src.Path != "" {
					out = append(out, &FileUse{Path: CleanPath(src.Path), What: fmt.Sprintf("items_from of step %q", s.ID), Pos: src.Pos, Chain: here})
				}
				if rf := blk.ResultsFile; rf != nil && rf.Path != "" {
					out = append(out, &FileUse{Path: CleanPath(rf.Path), Write: true, What: fmt.Sprintf("results_file of step %q", s.ID), Pos: rf.Pos, Chain: here})
				}
			}
			if s.Callee != nil {
				walk(s.Callee, append(slices.Clip(chain), CallSite{WF: wf, Step: s, Item: item}))
			}
		}
	}
	walk(w, nil)
	return out
}

// checkFiles reports the conflicts between the files the workflow and
// those it calls read and write (Conflict), each once, at the later use.
func (p *loader) checkFiles() {
	uses := p.wf.FileUses()
	byPath := make(map[string][]*FileUse)
	for _, u := range uses {
		byPath[u.Path] = append(byPath[u.Path], u)
	}
	for _, u := range uses {
		if !u.Write {
			continue
		}
		if why := Conflict(u, u); why != "" {
			p.fileError(u, why)
			continue
		}
		for _, o := range byPath[u.Path] {
			if o == u || o.Write && before(u, o) {
				continue // a pair of writes is reported once
			}
			if why := Conflict(u, o); why != "" {
				p.fileError(u, why)
				break
			}
		}
	}
}

// before orders uses by position, so that a conflict is reported at the
// later of its two uses.
func before(a, b *FileUse) bool {
	if a.Pos.File != b.Pos.File {
		return a.Pos.File > b.Pos.File
	}
	return a.Pos.Line < b.Pos.Line || a.Pos.Line == b.Pos.Line && a.Pos.Column < b.Pos.Column
}

func (p *loader) fileError(u *FileUse, why string) {
	p.list = append(p.list, &Diagnostic{Severity: Error, Pos: u.Pos,
		Summary: fmt.Sprintf("%s %s: %s", u.What, u.Path, why),
		Detail:  "a run must not overwrite what it reads, nor write one file from two places; give each writer its own file (a path from an input: results_file: ${{ inputs.out }})"})
}

// CleanPath returns path absolute and clean, with the symlinks of the
// longest part that exists resolved: the file itself may not exist yet.
func CleanPath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	var rest []string
	for dir := abs; ; {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(append([]string{real}, rest...)...)
		} else if !os.IsNotExist(err) && !strings.Contains(err.Error(), "not a directory") {
			return abs
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return abs
		}
		rest = append([]string{filepath.Base(dir)}, rest...)
		dir = parent
	}
}
