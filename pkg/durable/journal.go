package durable

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/flowrun/flowrun/internal/jsonenc"
	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/state"
	"github.com/flowrun/flowrun/pkg/steps"
)

// Journal records one attempt at a run in its state.Session: it is the
// run's exec.Recorder (and exec.BlockStarter), and for a resume also its
// exec.Restorer, answering from the journal of the earlier attempts.
//
// What it journals: every item of a parallel block that finished in this
// attempt (index, key, status, the attempts it made in this attempt,
// masked error, duration, and its output when the block keeps outputs:
// results: all or a results_file), each block's start and end, every
// single step's end (with its output), and the run's end; the run's
// masked report goes to report.json. Results it restored are not journaled
// again: the journal holds them already, and attempts add up over records.
// An output that holds the value of a secret input is not journaled
// either: the record says it was withheld, and a resume runs that step or
// item again instead of restoring it.
//
// A write error (a full disk) is sticky in the journal: every later record
// returns it, which fails the block or step being recorded and so the
// run, with the error; what was journaled before stays valid.
type Journal struct {
	s    *state.Session
	rp   *state.Replay // nil for a run from scratch
	mask *mask.Masker
	warn func(string)
	// key is the state directory's key, and keyMask the secrets the run
	// was started with: an item key that holds one of them is journaled
	// as its keyed hash (journalKey).
	key     mask.Key
	keyMask *mask.Masker

	blocks sync.Map // step id -> *seenKeys, for a resume

	// report is the run's report, from RunDone; kept is set once
	// report.json holds it.
	report *exec.Report
	kept   bool
}

// Create records a new run (see state.Dir.Create) and returns its
// Journal. m masks what it writes (errors, the report); warn, if not nil,
// receives warnings.
func Create(d *state.Dir, run *state.Run, m *mask.Masker, warn func(string)) (*Journal, error) {
	key, err := mask.LoadKey(d.Path())
	if err != nil {
		return nil, err
	}
	s, err := d.Create(run)
	if err != nil {
		return nil, err
	}
	return newJournal(s, nil, m, key, warn), nil
}

func newJournal(s *state.Session, rp *state.Replay, m *mask.Masker, key mask.Key, warn func(string)) *Journal {
	if m == nil {
		m = mask.New()
	}
	// The secrets known now, before the run starts: a called workflow's
	// secret, which the masker learns when its step runs (or not, on a
	// resume that restores the step), must not decide how a key is
	// journaled, or a resume would look it up in another form.
	return &Journal{s: s, rp: rp, mask: m, key: key, keyMask: m.Copy(), warn: warn}
}

// ID is the run's id: give it to exec.Options.RunID.
func (j *Journal) ID() string { return j.s.Run.ID }

// Run is the run's record.
func (j *Journal) Run() *state.Run { return j.s.Run }

// Dir is the run's folder.
func (j *Journal) Dir() string { return j.s.Dir() }

// KeepReport keeps shown, the run's report already masked (as flowrun
// apply prints it), in the run's folder as report.json, so that the
// report is masked and encoded once rather than again by Close.
func (j *Journal) KeepReport(shown *exec.Report) error {
	j.kept = true
	return j.s.KeepReport(func(w io.Writer) error { return writeReport(w, shown, nil) })
}

// Close ends a run whose end RunDone journaled: it keeps its report in
// report.json, masked, unless KeepReport did, and records its end in
// run.json with its item counts. Then it closes the journal and releases
// the run's lock.
func (j *Journal) Close() error {
	var errs []error
	if rep := j.report; rep != nil {
		if !j.kept {
			j.kept = true
			errs = append(errs, j.s.KeepReport(func(w io.Writer) error { return writeReport(w, rep, j.mask) }))
		}
		var c state.Counts
		for _, st := range rep.Steps {
			if sm := st.Summary; sm != nil {
				c.OK += sm.Succeeded
				c.Failed += sm.Failed
				c.Pending += sm.Skipped + sm.Cancelled + sm.NotStarted
			}
		}
		errs = append(errs, j.s.End(string(rep.Status), j.mask.String(rep.Error), &c))
		j.report = nil
	}
	return errors.Join(append(errs, j.s.Close())...)
}

// writeReport writes a report as report.json holds it.
func writeReport(w io.Writer, rep *exec.Report, m *mask.Masker) error {
	if err := rep.WriteJSON(w, m); err != nil {
		return fmt.Errorf("the report cannot be kept as JSON: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func (j *Journal) warnf(format string, args ...any) {
	if j.warn != nil {
		j.warn(fmt.Sprintf(format, args...))
	}
}

// keepsOutputs reports whether a block's items' outputs are journaled:
// when the block keeps them, in memory or in a results file, a resume
// must give them back.
func keepsOutputs(s *spec.Step) bool {
	return s.Parallel.Results == spec.ResultsAll || s.Parallel.ResultsFile != nil
}

// BlockStarted journals the start of a block with its item count.
func (j *Journal) BlockStarted(s *spec.Step, items int) error {
	if items < 0 {
		return nil // items_from: the end tells
	}
	return j.s.Journal.BlockStart(s.ID, items)
}

// ItemDone journals an item that finished in this attempt.
func (j *Journal) ItemDone(s *spec.Step, res *exec.ItemResult) error {
	if res.Restored {
		return nil
	}
	var out any
	if res.Status == exec.Succeeded && keepsOutputs(s) {
		out = res.Output
	}
	var enc []byte
	var nonFinite [][]any
	withheld := false
	if out != nil {
		// Encoded once, for the journal and the report; judged for
		// secrets as written.
		var err error
		if enc, nonFinite, err = res.ExactOutput(); err != nil {
			return fmt.Errorf("journal: step %q item %d (key %q): output cannot be journaled: %w", s.ID, res.Index, res.Key, err)
		}
		if withheld = j.holdsSecret(enc); withheld {
			out, enc, nonFinite = nil, nil, nil
		}
	}
	key := j.journalKey(res.Key)
	return j.s.Journal.Item(&state.ItemRecord{
		Step: s.ID, Index: res.Index, Key: key, Status: string(res.Status),
		Attempts:       max(res.Attempts-j.priorItem(s, key), 0),
		Output:         out,
		OutputJSON:     enc,
		NonFinite:      nonFinite,
		OutputWithheld: withheld,
		Error:          j.mask.String(res.Error),
		DurationMS:     res.DurationMS,
	})
}

// StepDone journals a block's end, or a single step's result unless it
// was restored.
func (j *Journal) StepDone(s *spec.Step, rep *exec.StepReport) error {
	if s.Parallel != nil {
		total := -1
		if rep.Summary != nil {
			total = rep.Summary.Total
		}
		j.reportGone(s, rep)
		return j.s.Journal.BlockEnd(s.ID, string(rep.Status), total)
	}
	if rep.Restored > 0 || rep.Status == exec.Pending {
		return nil
	}
	var out any
	if rep.Status == exec.Succeeded {
		out = rep.Output
	}
	prior := 0
	if j.rp != nil {
		if sr, ok := j.rp.Step(s.ID); ok {
			prior = sr.Attempts
		}
	}
	out, withheld := j.withhold(out)
	return j.s.Journal.Step(&state.StepRecord{
		ID: s.ID, Status: string(rep.Status), Output: out, OutputWithheld: withheld,
		Error: j.mask.String(rep.Error), Attempts: max(rep.Attempts-prior, 0),
	})
}

// withhold keeps an output that holds a secret's value out of the
// journal: the secret is not written, and the step or item that made it
// runs again on a resume rather than being restored masked (a wrong
// value) or not at all.
func (j *Journal) withhold(out any) (any, bool) {
	if out == nil || j.mask.Empty() {
		return out, false
	}
	// As the journal writes it: NaN and ±Inf as strings, which
	// json.Marshal refuses (and a secret beside one would then pass).
	b, _, err := jsonenc.Output(nil, out)
	if err != nil {
		return out, false // the journal refuses it, with the reason
	}
	if j.holdsSecret(b) {
		return nil, true
	}
	return out, false
}

// holdsSecret reports whether an output's JSON holds a secret's value, in
// any of its forms, as JSON writes it (mask.Masker.HasSecret): also a
// line of a multi-line secret holding a quote, and a secret that is a
// URL's credential, which redacting the URL would hide from a comparison
// of the masked text with the redacted one.
func (j *Journal) holdsSecret(b []byte) bool {
	return j.mask.HasSecret(b)
}

// RunDone journals the run's end (synced). The report goes to
// report.json and the end to run.json when the Journal is closed (or the
// report through KeepReport first): in that order, so that a run.json
// that says the run ended always has its report beside it, and a run
// killed before is resumed (its finally steps run again).
func (j *Journal) RunDone(rep *exec.Report) error {
	j.report = rep
	return j.s.Journal.RunEnd(string(rep.Status), j.mask.String(rep.Error))
}

// Step restores a single step that succeeded in an earlier attempt.
func (j *Journal) Step(s *spec.Step) (exec.Restored, error) {
	if j.rp == nil {
		return exec.Restored{}, nil
	}
	sr, ok := j.rp.Step(s.ID)
	if !ok {
		return exec.Restored{}, nil
	}
	if sr.Status != state.StatusSucceeded || sr.OutputWithheld {
		return exec.Restored{Attempts: sr.Attempts}, nil
	}
	out, err := decodeOutput(sr.Output, sr.NonFinite)
	if err != nil {
		return exec.Restored{}, fmt.Errorf("its journaled output: %v", err)
	}
	return exec.Restored{Succeeded: true, Output: out, Attempts: sr.Attempts}, nil
}

// Item restores an item of a block, by key, that succeeded in an earlier
// attempt. A key that two items of the block share cannot be matched and
// is an error.
func (j *Journal) Item(s *spec.Step, key string) (exec.Restored, error) {
	sk := j.seen(s.ID)
	if sk == nil {
		return exec.Restored{}, nil
	}
	sk.asked.Add(1)
	it, ok := sk.b.Item(j.journalKey(key))
	if !ok {
		return exec.Restored{}, nil
	}
	if !sk.mark(it.Seq) {
		return exec.Restored{}, fmt.Errorf("another item of the block has the same key; a resume matches items by key, so it cannot tell which one the journal means (make key: unique and start a new run)")
	}
	if it.Status != state.StatusSucceeded || it.OutputWithheld {
		return exec.Restored{Attempts: it.Attempts}, nil
	}
	out, err := decodeOutput(it.Output, it.NonFinite)
	if err != nil {
		return exec.Restored{}, fmt.Errorf("its journaled output: %v", err)
	}
	return exec.Restored{Succeeded: true, Output: out, Attempts: it.Attempts, DurationMS: it.DurationMS}, nil
}

// priorItem is the attempts earlier attempts made at the item journaled
// under key (journalKey).
func (j *Journal) priorItem(s *spec.Step, key string) int {
	sk := j.seen(s.ID)
	if sk == nil {
		return 0
	}
	it, _ := sk.b.Item(key)
	return it.Attempts
}

// journalKey is the key an item is journaled under, and looked up by on
// a resume: the key itself, or, when it holds one of the secrets the run
// was started with (keyMask: a key made of a secret input), its keyed
// hash (mask.Key.SumText, HMAC-SHA256 with the state directory's key), so
// that neither the secret nor a hash a guess could be checked against is
// written to the state directory. The same key always takes the same
// form: a resume must be given the same secrets (PrepareResume).
func (j *Journal) journalKey(key string) string {
	if !j.keyMask.HasSecret([]byte(key)) {
		return key
	}
	return j.key.SumText(key)
}

// isHashedKey reports whether a journaled key is journalKey's hash.
func isHashedKey(key string) bool { return strings.HasPrefix(key, mask.SumPrefix) }

// decodeOutput decodes a journaled output as a step's output is read:
// numbers kept exact (UseNumber, then spec.Normalize: whole numbers as
// int, never through float64), and the NaN and ±Inf the journal holds
// as strings at nonFinite (state.Record.NonFinite) floats again, as they
// were before the run stopped. A string "NaN" no path names stays a
// string: it was one.
func decodeOutput(raw json.RawMessage, nonFinite [][]any) (any, error) {
	if raw == nil {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return steps.RestoreNonFinite(spec.Normalize(v), nonFinite)
}

// seenKeys marks off the journaled keys of a block as a resume meets
// them: one bit per key, set atomically, since items are looked up from
// many workers at once.
type seenKeys struct {
	b     *state.Block
	bits  []atomic.Uint32
	asked atomic.Int64 // lookups: every item of the block, once
}

// seen returns the block's keys to mark off; nil when the journal has no
// item of it.
func (j *Journal) seen(step string) *seenKeys {
	if j.rp == nil {
		return nil
	}
	if v, ok := j.blocks.Load(step); ok {
		return v.(*seenKeys)
	}
	b := j.rp.Block(step)
	if b == nil || b.Len() == 0 {
		return nil
	}
	v, _ := j.blocks.LoadOrStore(step, &seenKeys{b: b, bits: make([]atomic.Uint32, (b.Len()+31)/32)})
	return v.(*seenKeys)
}

// mark marks key number seq seen; false when it already was.
func (sk *seenKeys) mark(seq int) bool {
	bit := uint32(1) << (seq % 32)
	return sk.bits[seq/32].Or(bit)&bit == 0
}

// maxGoneListed bounds the keys a warning names.
const maxGoneListed = 5

// reportGone warns about the keys of a block's journal that none of its
// items has any more: they are not run, and not in the results. It says
// nothing when the block stopped before it looked at all its items.
func (j *Journal) reportGone(s *spec.Step, rep *exec.StepReport) {
	sk := j.seen(s.ID)
	if sk == nil || rep.Summary == nil || sk.asked.Load() != int64(rep.Summary.Total) {
		return
	}
	var gone []string
	n, seq := 0, 0
	for key := range sk.b.Keys() {
		if sk.bits[seq/32].Load()&(1<<(seq%32)) == 0 {
			if n++; n <= maxGoneListed {
				if isHashedKey(key) {
					gone = append(gone, "(a key holding a secret)")
				} else {
					gone = append(gone, fmt.Sprintf("%q", key))
				}
			}
		}
		seq++
	}
	if n == 0 {
		return
	}
	more := ""
	if n > len(gone) {
		more = fmt.Sprintf(" and %d more", n-len(gone))
	}
	j.warnf("step %q: %d key(s) of the run's journal are no longer among its items, so they were neither run nor restored: %s%s",
		s.ID, n, j.mask.String(strings.Join(gone, ", ")), more)
}

var (
	_ exec.Recorder     = (*Journal)(nil)
	_ exec.BlockStarter = (*Journal)(nil)
	_ exec.Restorer     = (*Journal)(nil)
)
