package state

import (
	"encoding/json"
	"io"
	"iter"
	"math"
)

// Replay is what a journal says about a run, for a resume: the latest
// result of every single step and of every item of every parallel block,
// by key. The latest record of a step or key wins (its status, output and
// error); attempts add up over all its records, so they count the tries
// across resumes. A resumed run must therefore journal only what it ran
// itself, not what it restored.
//
// It is compact: an item costs its key, a status byte, an attempt count,
// a duration and its output only when one was journaled.
type Replay struct {
	steps  map[string]*StepResult
	blocks map[string]*Block
	order  []string // blocks in the order they first appear
	// last is the block of the latest record, for runs of one block's items.
	last     *Block
	lastStep string
	// Ended is set when the journal ends with a run record; Status and
	// Error are the last run record's.
	Ended  bool
	Status string
	Error  string
	// Records counts the records read.
	Records int
}

// StepResult is a single step's latest journaled result.
type StepResult struct {
	Status string
	Output json.RawMessage // nil when none was journaled
	// NonFinite is where Output holds a NaN or ±Inf as a string (see
	// Record.NonFinite); nil when it holds none.
	NonFinite [][]any
	// OutputWithheld: the step had an output that was not journaled.
	OutputWithheld bool
	Error          string
	Attempts       int
}

// Block is a parallel block's items as journaled, by key.
type Block struct {
	keys     *keyIndex
	status   []uint8 // index into statusNames
	attempts []uint32
	durs     []float32 // milliseconds
	outputs  map[int32]json.RawMessage
	nonFin   map[int32][][]any // Record.NonFinite of items that have one (rare)
	withheld map[int32]bool    // items whose output was not journaled (rare)
	// Total is the item count of the block's latest start, -1 if unknown.
	Total int
	// Ended is set when the block's latest start was followed by its end.
	Ended bool
	names []string // status names by index
}

// ItemResult is an item's latest journaled result.
type ItemResult struct {
	Status   string
	Attempts int
	Output   json.RawMessage // nil when none was journaled
	// NonFinite: see StepResult.
	NonFinite [][]any
	// OutputWithheld: the item had an output that was not journaled.
	OutputWithheld bool
	// DurationMS is the latest record's duration, kept to about 7
	// significant digits and rounded to the microsecond.
	DurationMS float64
	// Seq is the key's place among the block's keys, 0 to Len()-1 in the
	// order they were first journaled: a caller that marks keys off
	// needs no map of its own.
	Seq int
}

// defaultStatuses are the statuses items have, interned as bytes in this
// order (0 is succeeded, 1 failed); others are added as they appear.
var defaultStatuses = []string{"succeeded", "failed", "cancelled", "skipped"}

// LoadReplay reads a journal into a Replay. It returns the offset after
// the last whole record, where a writer continues the journal. A damaged
// record in the middle is a *JournalError.
func LoadReplay(r io.Reader, name string) (*Replay, int64, error) {
	rp := &Replay{steps: map[string]*StepResult{}, blocks: map[string]*Block{}}
	names := append([]string(nil), defaultStatuses...)
	statusIndex := func(s string) uint8 {
		for i, n := range names {
			if n == s {
				return uint8(i)
			}
		}
		if len(names) < 255 {
			names = append(names, s)
			return uint8(len(names) - 1)
		}
		return 255 // more distinct statuses than a byte holds: "unknown"
	}
	off, err := ReadJournal(r, name, func(rec *Record) error {
		rp.Records++
		switch rec.Type {
		case TypeStep:
			prev := rp.steps[rec.ID]
			sr := &StepResult{Status: rec.Status, Output: rec.Output, NonFinite: rec.NonFinite, OutputWithheld: rec.OutputWithheld, Error: rec.Error, Attempts: rec.Attempts}
			if prev != nil {
				sr.Attempts += prev.Attempts
			}
			rp.steps[rec.ID] = sr
		case TypeBlockStart:
			b := rp.block(rec.Step)
			b.Total, b.Ended = *rec.Total, false
		case TypeBlockEnd:
			b := rp.block(rec.Step)
			b.Ended = true
			if rec.Total != nil && b.Total < 0 {
				b.Total = *rec.Total
			}
		case TypeItem:
			b := rp.block(rec.Step)
			st := statusIndex(rec.Status)
			i, ok, err := b.keys.add(*rec.Key)
			if err != nil {
				return err
			}
			if !ok {
				b.status = append(b.status, st)
				b.attempts = append(b.attempts, 0)
				b.durs = append(b.durs, 0)
			}
			b.status[i] = st
			b.durs[i] = float32(rec.DurationMS)
			b.attempts[i] += uint32(rec.Attempts)
			if rec.Output != nil {
				if b.outputs == nil {
					b.outputs = map[int32]json.RawMessage{}
				}
				b.outputs[i] = rec.Output
			} else if ok {
				delete(b.outputs, i)
			}
			if rec.NonFinite != nil {
				if b.nonFin == nil {
					b.nonFin = map[int32][][]any{}
				}
				b.nonFin[i] = rec.NonFinite
			} else if ok {
				delete(b.nonFin, i)
			}
			if rec.OutputWithheld {
				if b.withheld == nil {
					b.withheld = map[int32]bool{}
				}
				b.withheld[i] = true
			} else if ok {
				delete(b.withheld, i)
			}
		case TypeRun:
			rp.Ended, rp.Status, rp.Error = true, rec.Status, rec.Error
		}
		if rec.Type != TypeRun {
			rp.Ended = false
		}
		return nil
	})
	if err != nil {
		return nil, off, err
	}
	for _, b := range rp.blocks {
		b.names = names
	}
	return rp, off, nil
}

func (rp *Replay) block(step string) *Block {
	if rp.last != nil && rp.lastStep == step {
		return rp.last
	}
	b := rp.blocks[step]
	defer func() { rp.last, rp.lastStep = b, step }()
	if b == nil {
		b = &Block{keys: newKeyIndex(), Total: -1}
		rp.blocks[step] = b
		rp.order = append(rp.order, step)
	}
	return b
}

// Step returns single step id's latest result; false when it has none.
func (rp *Replay) Step(id string) (StepResult, bool) {
	sr, ok := rp.steps[id]
	if !ok {
		return StepResult{}, false
	}
	return *sr, true
}

// Block returns the journaled items of parallel block step; nil when it
// has none.
func (rp *Replay) Block(step string) *Block { return rp.blocks[step] }

// Blocks returns the ids of the journaled blocks, in the order they first
// appear in the journal.
func (rp *Replay) Blocks() []string { return append([]string(nil), rp.order...) }

// Counts counts the items of every block: ok and failed by their latest
// status, pending for the rest of each block's Total (cancelled, skipped,
// never started; a block with an unknown total counts only what it
// journaled).
func (rp *Replay) Counts() Counts {
	var c Counts
	for _, b := range rp.blocks {
		bc := b.Counts()
		c.OK += bc.OK
		c.Failed += bc.Failed
		c.Pending += bc.Pending
	}
	return c
}

// Item returns the latest result of the item with key; false when none
// was journaled.
func (b *Block) Item(key string) (ItemResult, bool) {
	i, ok := b.keys.lookup(key)
	if !ok {
		return ItemResult{}, false
	}
	return ItemResult{Status: b.statusName(i), Attempts: int(b.attempts[i]), Output: b.outputs[i], NonFinite: b.nonFin[i], OutputWithheld: b.withheld[i], DurationMS: math.Round(float64(b.durs[i])*1000) / 1000, Seq: int(i)}, true
}

// Len is the number of distinct keys journaled.
func (b *Block) Len() int { return len(b.status) }

// Keys yields the journaled keys in the order they were first journaled.
func (b *Block) Keys() iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := range b.keys.len() {
			if !yield(string(b.keys.bytes(i))) {
				return
			}
		}
	}
}

// Counts counts the block's items (see Replay.Counts).
func (b *Block) Counts() Counts {
	var c Counts
	for _, s := range b.status {
		switch s {
		case 0:
			c.OK++
		case 1:
			c.Failed++
		}
	}
	c.Pending = len(b.status) - c.OK - c.Failed
	if b.Total > len(b.status) {
		c.Pending += b.Total - len(b.status)
	}
	return c
}

func (b *Block) statusName(i int32) string {
	s := b.status[i]
	if int(s) < len(b.names) {
		return b.names[s]
	}
	return "unknown"
}
