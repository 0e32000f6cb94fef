package exec

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowrun/flowrun/internal/privfile"
	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/spec"
)

// collector gathers a parallel block's results as its items finish: the
// counts and durations of the summary, the results kept in memory
// (results: all or failures) and the results file. Each worker records
// into its own tally, without a lock; the tallies are merged when the
// block ends. Memory stays flat in the item count unless every result is
// kept.
type collector struct {
	n int // items, or -1 while unknown
	// slots holds every result by index when all are kept and the count
	// is known up front: item i writes slots[i].
	slots []ItemResult
	// keepAll keeps successes too, up to limit kept results (0: no limit)
	// beyond which only failures are kept and dropped is set.
	keepAll bool
	limit   int64
	kept    atomic.Int64
	dropped atomic.Bool
	durs    *durations
	file    *resultsFile
	mask    *mask.Masker // masks the results file's lines
	tallies []*tally
}

// tally is one worker's share of a block's results.
type tally struct {
	c       *collector
	scratch ItemResult
	kept    []ItemResult
	counts  [4]int // succeeded, failed, skipped, cancelled
	durs    []int64
	buf     []byte // results file lines not yet written
	flushed time.Time
}

func newCollector(blk *spec.Parallel, n, workers int, step string, h hooks) (*collector, error) {
	c := &collector{n: n, keepAll: blk.Results == spec.ResultsAll, durs: newDurations()}
	if c.keepAll && !blk.ResultsSet {
		c.limit = h.keptLimit()
		if n > int(c.limit) {
			c.dropped.Store(true)
		}
	}
	if c.keepAll && n >= 0 && !c.dropped.Load() {
		c.slots = make([]ItemResult, n)
	}
	if rf := blk.ResultsFile; rf != nil {
		f, err := privfile.Create(rf.Path)
		if err != nil {
			return nil, fmt.Errorf("%s: step %q: results_file: %v", rf.Pos, step, err)
		}
		c.file = &resultsFile{f: f, spec: rf, step: step, sync: h.syncFile()}
	}
	c.tallies = make([]*tally, workers)
	for i := range c.tallies {
		c.tallies[i] = &tally{c: c, durs: make([]int64, 0, durationBatch)}
	}
	return c, nil
}

// slot is where item i's result is written: its own slot when every
// result is kept, else the worker's scratch result, copied if kept.
func (t *tally) slot(i int) *ItemResult {
	if t.c.slots != nil {
		return &t.c.slots[i]
	}
	t.scratch = ItemResult{}
	return &t.scratch
}

// record counts a finished item and keeps or writes it out.
func (t *tally) record(res *ItemResult) {
	c := t.c
	switch res.Status {
	case Succeeded:
		t.counts[0]++
	case Failed:
		t.counts[1]++
	case Skipped:
		t.counts[2]++
	default:
		t.counts[3]++
	}
	if res.Status == Succeeded || res.Status == Failed {
		if t.durs = append(t.durs, micros(res.DurationMS)); len(t.durs) == durationBatch {
			c.durs.add(t.durs)
			t.durs = t.durs[:0]
		}
	}
	if c.file != nil {
		t.write(res)
	}
	if c.slots == nil && (res.Status == Failed || c.keepAll && !c.dropped.Load()) {
		if c.limit > 0 && c.kept.Add(1) > c.limit && res.Status != Failed {
			c.dropped.Store(true)
			return
		}
		t.kept = append(t.kept, *res)
	}
}

// done flushes what the worker still buffers.
func (t *tally) done() {
	t.c.durs.add(t.durs)
	t.durs = t.durs[:0]
	if t.c.file != nil {
		t.c.file.write(t.buf)
		t.buf = nil
	}
}

// results file lines are buffered per worker and written in chunks of
// fileChunk bytes, or sooner when fileEvery has passed since the worker
// last wrote, so that a slow block's file still fills as it runs.
const (
	fileChunk = 32 << 10
	fileEvery = 200 * time.Millisecond
)

func (t *tally) write(res *ItemResult) {
	line, err := json.Marshal(res)
	if err != nil {
		cp := *res
		cp.Output = spec.Text(res.Output)
		line, _ = json.Marshal(&cp)
	}
	if t.c.mask.Contains(line) {
		// Mask the values, not the JSON text, so that the line stays
		// valid JSON whatever the secret holds.
		line, _ = json.Marshal(maskedResult(t.c.mask, res))
	}
	t.buf = append(append(t.buf, line...), '\n')
	if now := time.Now(); len(t.buf) >= fileChunk || now.Sub(t.flushed) >= fileEvery {
		t.c.file.write(t.buf)
		t.buf, t.flushed = t.buf[:0], now
	}
}

// finish merges the tallies into the step's results and summary, then
// syncs and closes the results file.
func (c *collector) finish(rep *StepReport, workers int, elapsed time.Duration) error {
	var counts [4]int
	for _, t := range c.tallies {
		for i, n := range t.counts {
			counts[i] += n
		}
	}
	total := counts[0] + counts[1] + counts[2] + counts[3]
	if c.n >= 0 {
		// Items that never started: the block or the run was cancelled.
		counts[3] += c.n - total
		total = c.n
	}
	var results []*ItemResult
	if c.slots != nil {
		results = make([]*ItemResult, len(c.slots))
		for i := range c.slots {
			res := &c.slots[i]
			if res.Status == Pending {
				res.Index, res.Status = i, Cancelled
			}
			results[i] = res
		}
	} else {
		var all []ItemResult
		for _, t := range c.tallies {
			for _, r := range t.kept {
				if r.Status == Failed || !c.dropped.Load() {
					all = append(all, r)
				}
			}
			t.kept = nil
		}
		slices.SortFunc(all, func(a, b ItemResult) int { return a.Index - b.Index })
		results = make([]*ItemResult, len(all))
		for i := range all {
			results[i] = &all[i]
		}
	}
	rep.Results = results
	if !c.keepAll || c.dropped.Load() {
		rep.ResultsKept = spec.ResultsFailures
	}
	rep.Summary = c.summary(counts, total, workers, elapsed)
	if c.file != nil {
		return c.file.close()
	}
	return nil
}

func (c *collector) summary(counts [4]int, total, workers int, elapsed time.Duration) *Summary {
	s := &Summary{
		Total: total, Succeeded: counts[0], Failed: counts[1], Skipped: counts[2], Cancelled: counts[3],
		Workers: workers, DurationMS: ms(elapsed),
		P50MS: c.durs.percentile(50), P95MS: c.durs.percentile(95), P99MS: c.durs.percentile(99),
		MaxMS: c.durs.maxMS(),
	}
	if elapsed > 0 {
		s.ItemsPerSec = round(float64(s.Succeeded+s.Failed) / elapsed.Seconds())
	}
	return s
}

// resultsFile is a block's results_file: JSON lines appended in chunks
// under a lock taken once per chunk, synced when the block ends.
type resultsFile struct {
	mu   sync.Mutex
	f    *os.File
	spec *spec.ResultsFile
	step string
	sync func(*os.File) error
	err  error
}

func (w *resultsFile) write(b []byte) {
	if len(b) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		_, w.err = w.f.Write(b)
	}
}

// close syncs the file to disk and closes it.
func (w *resultsFile) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.err
	if err == nil {
		err = w.sync(w.f)
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: step %q: results_file %s: %v", w.spec.Pos, w.step, w.spec.File, err)
	}
	return nil
}
