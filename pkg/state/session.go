package state

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
)

// Session is a run being recorded by this process: its lock is held and its
// journal is open for appending. Close it when the run is over.
type Session struct {
	Run     *Run
	Journal *Writer
	dir     string
	lock    *Lock
}

// NewID returns a new random run id: 12 hex digits.
func NewID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Create records a new run: it creates the run's folder (an existing one
// is an error), takes its lock, writes run.json with r (Format, Status
// "running" and, when zero, StartedAt are set here; an empty ID gets
// NewID) and creates its journal.
func (d *Dir) Create(r *Run) (*Session, error) {
	if r.ID == "" {
		r.ID = NewID()
	}
	if !validID(r.ID) {
		return nil, fmt.Errorf("run id %q: use letters, digits, '-' and '_'", r.ID)
	}
	r.Format, r.Status = FormatVersion, StatusRunning
	if r.StartedAt.IsZero() {
		r.StartedAt = time.Now()
	}
	if err := os.MkdirAll(d.runsDir(), 0o700); err != nil {
		return nil, d.unusable(err)
	}
	dir := d.RunDir(r.ID)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("run %s already exists in %s", r.ID, d.path)
		}
		return nil, d.unusable(err)
	}
	s, err := d.start(dir, r, 0)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// Resume reopens recorded run id to continue it: it takes the run's lock
// (refused with ErrLocked while another process has it), reads run.json
// and replays the journal, then counts a resume, sets the status back to
// "running" in run.json and reopens the journal after its last whole
// record (a torn tail is cut off). A damaged journal is a *JournalError
// and nothing is changed.
//
// The caller compares the returned Session's Run (hashes, inputs) with the
// workflow it is about to run before it runs anything.
func (d *Dir) Resume(id string) (*Session, *Replay, error) {
	if !validID(id) {
		return nil, nil, fmt.Errorf("run id %q: no such run", id)
	}
	dir := d.RunDir(id)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, nil, fmt.Errorf("no run %s in %s", id, d.path)
	}
	lk, err := lockRun(dir)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*Session, *Replay, error) {
		_ = lk.Release()
		return nil, nil, err
	}
	r, err := readRun(dir)
	if err != nil {
		return fail(err)
	}
	jname := filepath.Join(dir, JournalFile)
	var rp *Replay
	var off int64
	f, _, err := openRegular(jname)
	switch {
	case errors.Is(err, os.ErrNotExist):
		// The process died between run.json and the journal: nothing
		// was journaled.
		rp, _, err = LoadReplay(strings.NewReader(""), jname)
	case err == nil:
		rp, off, err = LoadReplay(f, jname)
		f.Close()
	}
	if err != nil {
		return fail(err)
	}
	r.Resumes++
	r.Status, r.Error, r.EndedAt, r.Items = StatusRunning, "", time.Time{}, nil
	if err := writeRun(dir, r, maxRunFile-runFileHeadroom); err != nil {
		return fail(err)
	}
	w, err := openJournal(jname, off)
	if err != nil {
		return fail(err)
	}
	return &Session{Run: r, Journal: w, dir: dir, lock: lk}, rp, nil
}

// start locks dir, writes run.json and opens the journal at offset off.
func (d *Dir) start(dir string, r *Run, off int64) (*Session, error) {
	lk, err := lockRun(dir)
	if err != nil {
		return nil, err
	}
	if err := writeRun(dir, r, maxRunFile-runFileHeadroom); err != nil {
		_ = lk.Release()
		return nil, err
	}
	w, err := openJournal(filepath.Join(dir, JournalFile), off)
	if err != nil {
		_ = lk.Release()
		return nil, err
	}
	if err := syncDir(dir); err != nil {
		_ = w.Close()
		_ = lk.Release()
		return nil, err
	}
	return &Session{Run: r, Journal: w, dir: dir, lock: lk}, nil
}

// Dir is the run's folder.
func (s *Session) Dir() string { return s.dir }

// Finish ends the run: it journals the run end (synced), has report
// write the run report as JSON (when not nil) into report.json, replaced
// atomically, and rewrites run.json with the status, error, end time and
// item counts (nil: counted from the journal), last, so that a run.json
// that says the run ended has its report beside it. Every step is
// attempted; the errors are returned joined.
func (s *Session) Finish(status, errText string, counts *Counts, report func(io.Writer) error) error {
	errs := []error{s.Journal.RunEnd(status, errText)}
	if report != nil {
		errs = append(errs, s.KeepReport(report))
	}
	errs = append(errs, s.End(status, errText, counts))
	return errors.Join(errs...)
}

// KeepReport has write write the run report as JSON into report.json,
// replaced atomically.
func (s *Session) KeepReport(write func(io.Writer) error) error {
	return writeAtomic(filepath.Join(s.dir, ReportFile), 0o600, write)
}

// End rewrites run.json with the run's end: status, error, end time and
// item counts (nil: counted from the journal). Finish does it all; a
// caller that journals the run end and keeps the report itself calls it
// last.
func (s *Session) End(status, errText string, counts *Counts) error {
	var errs []error
	if counts == nil {
		c, err := countJournal(filepath.Join(s.dir, JournalFile))
		errs = append(errs, err)
		counts = &c
	}
	if len(errText) > maxRunError {
		cut := maxRunError
		for cut > 0 && !utf8.RuneStart(errText[cut]) {
			cut--
		}
		errText = errText[:cut] + " …"
	}
	s.Run.Status, s.Run.Error, s.Run.EndedAt, s.Run.Items = status, errText, time.Now(), counts
	errs = append(errs, writeRun(s.dir, s.Run, maxRunFile))
	return errors.Join(errs...)
}

// Close closes the journal (writing and syncing what is buffered) and
// releases the lock. It returns the journal's sticky error, if any.
func (s *Session) Close() error {
	err := s.Journal.Close()
	if lerr := s.lock.Release(); err == nil {
		err = lerr
	}
	return err
}

// countJournal counts the items journaled in the file name.
func countJournal(name string) (Counts, error) {
	f, _, err := openRegular(name)
	if err != nil {
		return Counts{}, err
	}
	defer f.Close()
	rp, _, err := LoadReplay(f, name)
	if err != nil {
		return Counts{}, err
	}
	return rp.Counts(), nil
}
