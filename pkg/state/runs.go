package state

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/flowrun/flowrun/internal/suggest"
)

// StatusInterrupted is the status Info gives a run whose run.json says
// "running" while no process holds its lock: its process died.
const StatusInterrupted = "interrupted"

// Info is a recorded run as listed.
type Info struct {
	ID string
	// Run is the run's run.json; nil when it could not be read, with Err
	// saying why.
	Run *Run
	Err error
	// Status is Run.Status, except StatusInterrupted for a run that is
	// "running" without a live process, and "unknown" without Run.
	Status string
	// Items counts the run's items: from run.json for a run that ended,
	// else from its journal.
	Items Counts
	// Started is Run.StartedAt, or the folder's time without Run.
	Started time.Time
}

// Duration is how long the run took, or has been running; 0 when unknown.
func (i *Info) Duration(now time.Time) time.Duration {
	if i.Run == nil {
		return 0
	}
	if !i.Run.EndedAt.IsZero() {
		return i.Run.EndedAt.Sub(i.Run.StartedAt)
	}
	if i.Status == StatusRunning {
		return now.Sub(i.Run.StartedAt)
	}
	return 0
}

// ids returns the names of the run folders, unsorted. A missing state
// directory holds no runs.
func (d *Dir) ids() ([]string, error) {
	entries, err := os.ReadDir(d.runsDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && validID(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}

// List returns every recorded run, newest first (by start time, then id).
// A run whose run.json cannot be read is listed with Err set, not skipped.
func (d *Dir) List() ([]*Info, error) {
	ids, err := d.ids()
	if err != nil {
		return nil, err
	}
	infos := make([]*Info, 0, len(ids))
	for _, id := range ids {
		infos = append(infos, d.info(id))
	}
	slices.SortFunc(infos, func(a, b *Info) int {
		if c := b.Started.Compare(a.Started); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return infos, nil
}

// Get returns the run with exactly this id (see Resolve for a prefix).
func (d *Dir) Get(id string) (*Info, error) {
	if !validID(id) {
		return nil, fmt.Errorf("no run %q in %s", id, d.path)
	}
	if fi, err := os.Stat(d.RunDir(id)); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("no run %s in %s", id, d.path)
	}
	return d.info(id), nil
}

func (d *Dir) info(id string) *Info {
	dir := d.RunDir(id)
	in := &Info{ID: id, Status: "unknown"}
	r, err := readRun(dir)
	if err != nil {
		in.Err = err
		if fi, serr := os.Stat(dir); serr == nil {
			in.Started = fi.ModTime()
		}
		return in
	}
	in.Run, in.Status, in.Started = r, r.Status, r.StartedAt
	if r.Status == StatusRunning && !held(dir) {
		in.Status = StatusInterrupted
	}
	if r.Items != nil && in.Status != StatusRunning && in.Status != StatusInterrupted {
		in.Items = *r.Items
		return in
	}
	c, err := countJournal(filepath.Join(dir, JournalFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		in.Err = err
	}
	in.Items = c
	return in
}

// Resolve returns the id of the run that id names: the run with that id,
// else the only run whose id starts with it. An unknown id is an error
// naming the closest ids.
func (d *Dir) Resolve(id string) (string, error) {
	ids, err := d.ids()
	if err != nil {
		return "", err
	}
	if slices.Contains(ids, id) {
		return id, nil
	}
	var prefixed []string
	if id != "" {
		for _, c := range ids {
			if strings.HasPrefix(c, id) {
				prefixed = append(prefixed, c)
			}
		}
	}
	slices.Sort(prefixed)
	switch {
	case len(prefixed) == 1:
		return prefixed[0], nil
	case len(prefixed) > 1:
		return "", fmt.Errorf("run id %q is ambiguous: it starts %s", id, strings.Join(prefixed, ", "))
	}
	msg := fmt.Sprintf("no run %q in %s", id, d.path)
	if len(ids) == 0 {
		return "", errors.New(msg + " (it holds no runs)")
	}
	if c := suggest.Closest(id, ids); c != "" {
		return "", fmt.Errorf("%s; did you mean %s? (flowrun runs lists them)", msg, c)
	}
	return "", fmt.Errorf("%s (flowrun runs lists them)", msg)
}

// LatestUnfinished returns the newest run of the workflow file at path
// (compared as absolute paths) that did not succeed; an error when there
// is none.
func (d *Dir) LatestUnfinished(path string) (*Info, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	infos, err := d.List()
	if err != nil {
		return nil, err
	}
	for _, in := range infos {
		if in.Run != nil && in.Run.Workflow == abs && in.Status != StatusSucceeded {
			return in, nil
		}
	}
	return nil, fmt.Errorf("no run of %s that did not succeed in %s", path, d.path)
}

// Prune deletes recorded runs and returns the ids it deleted: those past
// the keep newest (keep < 0: no such limit) and started before
// now-olderThan (olderThan <= 0: no such limit); with both limits a run is
// deleted only when both say so. A run in use (its lock held) is never
// deleted.
func (d *Dir) Prune(keep int, olderThan time.Duration, now time.Time) ([]string, error) {
	if keep < 0 && olderThan <= 0 {
		return nil, errors.New("prune needs --keep or --older-than")
	}
	infos, err := d.List()
	if err != nil {
		return nil, err
	}
	var deleted []string
	var errs []error
	for i, in := range infos {
		if keep >= 0 && i < keep {
			continue
		}
		if olderThan > 0 && !in.Started.Before(now.Add(-olderThan)) {
			continue
		}
		dir := d.RunDir(in.ID)
		lk, err := lockRun(dir)
		if err != nil {
			continue // in use, or unlockable: keep it
		}
		err = os.RemoveAll(dir)
		_ = lk.Release()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		deleted = append(deleted, in.ID)
	}
	return deleted, errors.Join(errs...)
}

// maxReport bounds the report.json read back.
const maxReport = 1 << 30

// Report opens the stored report of run id (report.json).
func (d *Dir) Report(id string) (io.ReadCloser, error) {
	if !validID(id) {
		return nil, fmt.Errorf("no run %q in %s", id, d.path)
	}
	name := filepath.Join(d.RunDir(id), ReportFile)
	f, fi, err := openRegular(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("run %s has no report (it has not ended)", id)
	}
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxReport {
		f.Close()
		return nil, fmt.Errorf("%s: %d bytes, more than the %d read", name, fi.Size(), maxReport)
	}
	return f, nil
}
