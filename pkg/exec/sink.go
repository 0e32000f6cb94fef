package exec

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
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
	// lat holds the latencies from when items were due, in a block with
	// a rate: (nil otherwise: they equal the durations).
	lat    *durations
	series *series
	start  time.Duration // when the block started, since the run did
	file   *resultsFile
	mask   *mask.Masker // masks the results file's lines
	// tallies are made as lanes first record, so that a block of
	// 100,000 workers over 5 items makes 5: lane i writes tallies[i],
	// the results file's flusher reads them.
	tallies []atomic.Pointer[tally]
	// stop ends the flusher, which has ended when flushed is closed.
	stop, flushed chan struct{}
}

// tally is one worker's share of a block's results.
type tally struct {
	c       *collector
	scratch ItemResult
	kept    []ItemResult
	counts  [5]int // succeeded, failed, skipped, cancelled, not started
	durs    []int64
	lats    []int64
	samples []sample
	codes   map[int]int    // items by Code
	kinds   map[string]int // failed items by ErrorKind
	// buf holds results file lines not yet written; the lane appends to
	// it and the flusher empties it, under mu.
	mu  sync.Mutex
	buf []byte
}

// newCollector returns the collector of a block of n items (-1 while
// unknown) that started start after the run; resultsPath is where its
// results_file goes, decided when the run started (prepareFiles).
func newCollector(blk *spec.Parallel, n, workers int, step string, h hooks, start time.Duration, resultsPath string) (*collector, error) {
	c := &collector{n: n, keepAll: blk.Results == spec.ResultsAll, durs: newDurations(), series: newSeries(), start: start}
	if blk.Rate != nil {
		c.lat = newDurations()
	}
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
		f, err := privfile.Create(resultsPath)
		if err != nil {
			return nil, fmt.Errorf("%s: step %q: results_file %s: %v", rf.Pos, step, resultsPath, unwrapPath(err))
		}
		c.file = &resultsFile{f: f, spec: rf, path: resultsPath, step: step, sync: h.syncFile()}
	}
	c.tallies = make([]atomic.Pointer[tally], workers)
	if c.file != nil {
		c.stop, c.flushed = make(chan struct{}), make(chan struct{})
		go c.flusher(h.flushEvery())
	}
	return c, nil
}

// lane returns the tally of lane i, made on its first use. Only lane i
// calls it with i, so no two goroutines make one.
func (c *collector) lane(i int) *tally {
	if t := c.tallies[i].Load(); t != nil {
		return t
	}
	t := &tally{c: c, durs: make([]int64, 0, durationBatch), samples: make([]sample, 0, durationBatch)}
	if c.lat != nil {
		t.lats = make([]int64, 0, durationBatch)
	}
	c.tallies[i].Store(t)
	return t
}

// each calls fn with every tally made so far.
func (c *collector) each(fn func(*tally)) {
	for i := range c.tallies {
		if t := c.tallies[i].Load(); t != nil {
			fn(t)
		}
	}
}

// flusher writes the lines the tallies buffer every interval, whether or
// not items finish: a block whose workers run long items still shows its
// finished ones in the results file within a second.
func (c *collector) flusher(every time.Duration) {
	defer close(c.flushed)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
			c.each(func(t *tally) { c.file.write(t.take()) })
		}
	}
}

// fileErr returns the error of the results file's first failed write, so
// that the block stops at once instead of running on with results that
// are not kept.
func (c *collector) fileErr() error {
	if c.file == nil {
		return nil
	}
	return c.file.failed()
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
	case NotStarted:
		t.counts[4]++
	default:
		t.counts[3]++
	}
	if res.Code != 0 {
		if t.codes == nil {
			t.codes = make(map[int]int)
		}
		t.codes[res.Code]++
	}
	if res.ErrorKind != "" && res.Status == Failed {
		if t.kinds == nil {
			t.kinds = make(map[string]int)
		}
		t.kinds[res.ErrorKind]++
	}
	finished := res.Status == Succeeded || res.Status == Failed
	if finished || res.Attempts > 0 {
		t.sample(res, finished)
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

// sample adds an item that ran to the batches of durations, latencies and
// series, and hands them over once full.
func (t *tally) sample(res *ItemResult, finished bool) {
	c := t.c
	service := micros(res.DurationMS)
	latency := service
	if c.lat != nil && res.LatencyMS > 0 {
		latency = micros(res.LatencyMS)
	}
	if !res.Restored {
		// The series is of this attempt at the run: a restored item ran
		// in an earlier one, while its duration belongs to the block's.
		start := micros(res.OffsetMS) - int64(c.start/time.Microsecond)
		t.samples = append(t.samples, sample{start: start, end: start + service, latency: latency, finished: finished, failed: res.Status == Failed})
	}
	if finished {
		t.durs = append(t.durs, service)
		if c.lat != nil {
			t.lats = append(t.lats, latency)
		}
	}
	if len(t.samples) == durationBatch || len(t.durs) == durationBatch {
		t.flush()
	}
}

// flush hands the batches to the block's histograms and series.
func (t *tally) flush() {
	c := t.c
	c.durs.add(t.durs)
	if c.lat != nil {
		c.lat.add(t.lats)
	}
	c.series.add(t.samples)
	t.durs, t.lats, t.samples = t.durs[:0], t.lats[:0], t.samples[:0]
}

// done flushes what the worker still buffers.
func (t *tally) done() {
	t.flush()
	if t.c.file != nil {
		t.c.file.write(t.take())
	}
}

// take returns the buffered lines and empties the buffer.
func (t *tally) take() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	t.buf = nil
	return b
}

// results file lines are buffered per worker and written in chunks of
// fileChunk bytes, and every fileEvery by the flusher, so that a slow
// block's file fills as it runs.
const (
	fileChunk = 32 << 10
	fileEvery = 500 * time.Millisecond
)

func (t *tally) write(res *ItemResult) {
	line, err := json.Marshal(res.finite())
	if err != nil {
		cp := *res
		cp.Output = spec.Text(res.Output)
		line, _ = json.Marshal(cp.finite())
	}
	if t.c.mask.Contains(line) {
		// Mask the values, not the JSON text, so that the line stays
		// valid JSON whatever the secret holds.
		line, _ = json.Marshal(maskedResult(t.c.mask, res).finite())
	}
	t.mu.Lock()
	t.buf = append(append(t.buf, line...), '\n')
	var full []byte
	if len(t.buf) >= fileChunk {
		full, t.buf = t.buf, nil
	}
	t.mu.Unlock()
	t.c.file.write(full)
}

// blockEnd is what the block tells the collector when its items are done.
type blockEnd struct {
	workers int
	elapsed time.Duration
	// timeUp is set when the block's duration: ended it: the items it
	// did not start are not started, not cancelled.
	timeUp bool
	// asked and achieved are the rate: and the rate at which items
	// started, per second; 0 without a rate.
	asked, achieved float64
}

// finish merges the tallies into the step's results, summary, series and
// histogram, then syncs and closes the results file.
func (c *collector) finish(rep *StepReport, end blockEnd) error {
	if c.stop != nil {
		close(c.stop)
		<-c.flushed
	}
	var counts [5]int
	codes, kinds := map[string]int{}, map[string]int{}
	c.each(func(t *tally) {
		for i, n := range t.counts {
			counts[i] += n
		}
		for code, n := range t.codes {
			codes[strconv.Itoa(code)] += n
		}
		for kind, n := range t.kinds {
			kinds[kind] += n
		}
	})
	total := counts[0] + counts[1] + counts[2] + counts[3] + counts[4]
	unstarted := Cancelled
	if c.n >= 0 {
		// Items that never started: the block or the run was cancelled,
		// or the block's duration ended.
		if end.timeUp {
			counts[4] += c.n - total
			unstarted = NotStarted
		} else {
			counts[3] += c.n - total
		}
		total = c.n
	}
	var results []*ItemResult
	if c.slots != nil {
		results = make([]*ItemResult, len(c.slots))
		for i := range c.slots {
			res := &c.slots[i]
			if res.Status == Pending {
				res.Index, res.Status = i, unstarted
			}
			results[i] = res
		}
	} else {
		var all []ItemResult
		c.each(func(t *tally) {
			for _, r := range t.kept {
				if r.Status == Failed || !c.dropped.Load() {
					all = append(all, r)
				}
			}
			t.kept = nil
		})
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
	rep.Summary = c.summary(counts, total, end)
	rep.Summary.StatusCodes, rep.Summary.Errors = codes, kinds
	rep.Series, rep.Histogram = c.series.result()
	if w := rateWarning(end); w != "" {
		rep.Warnings = append(rep.Warnings, w)
	}
	if c.file != nil {
		return c.file.close()
	}
	return nil
}

func (c *collector) summary(counts [5]int, total int, end blockEnd) *Summary {
	s := &Summary{
		Total: total, Succeeded: counts[0], Failed: counts[1], Skipped: counts[2], Cancelled: counts[3], NotStarted: counts[4],
		Workers: end.workers, DurationMS: ms(end.elapsed),
		P50MS: c.durs.percentile(50), P95MS: c.durs.percentile(95), P99MS: c.durs.percentile(99),
		MaxMS:           c.durs.maxMS(),
		RateAskedPerSec: round(end.asked), RateAchievedPerSec: round(end.achieved),
	}
	lat := c.durs
	if c.lat != nil {
		lat = c.lat
	}
	s.LatencyP50MS, s.LatencyP95MS, s.LatencyP99MS = lat.percentile(50), lat.percentile(95), lat.percentile(99)
	s.LatencyMaxMS = lat.maxMS()
	if end.elapsed > 0 {
		s.ItemsPerSec = round(float64(s.Succeeded+s.Failed) / end.elapsed.Seconds())
	}
	return s
}

// rateWarning says when a block could not start items as fast as its
// rate: asked (all its workers were busy): its latencies then count the
// wait, and the load was lighter than asked.
func rateWarning(end blockEnd) string {
	if end.asked <= 0 || end.achieved <= 0 || end.achieved >= 0.95*end.asked {
		return ""
	}
	return fmt.Sprintf("rate %s/s asked, %s/s achieved: raise workers (%d were all busy)", figure(end.asked), figure(end.achieved), end.workers)
}

// figure writes a rate for people: whole numbers with thousands
// separators (5,043), or two significant digits below 10.
func figure(f float64) string {
	if f < 10 {
		return strconv.FormatFloat(f, 'g', 2, 64)
	}
	s := strconv.FormatFloat(math.Round(f), 'f', -1, 64)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// resultsFile is a block's results_file: JSON lines appended in chunks
// under a lock taken once per chunk, synced when the block ends.
type resultsFile struct {
	mu   sync.Mutex
	f    *os.File
	spec *spec.ResultsFile
	path string
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

// failed returns the error of the first write that failed, or nil.
func (w *resultsFile) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		return nil
	}
	return fmt.Errorf("%s: step %q: results_file %s: %v", w.spec.Pos, w.step, w.path, unwrapPath(w.err))
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
		return fmt.Errorf("%s: step %q: results_file %s: %v", w.spec.Pos, w.step, w.path, unwrapPath(err))
	}
	return nil
}
