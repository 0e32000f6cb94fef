package exec

import (
	"math"
	"sync"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// durations estimates a block's duration percentiles in constant memory,
// whatever its item count: an HDR histogram of microseconds with three
// significant digits, so a percentile is within 0.1% of the exact
// nearest-rank value (and never below it). About 200 KB a block.
//
// Workers buffer their items' durations and add them a batch at a time,
// so the lock is taken once per durationBatch items, not once per item.
type durations struct {
	mu  sync.Mutex
	h   *hdrhistogram.Histogram
	max int64 // exact, in microseconds
}

const (
	// maxTrackedUS is the longest duration told apart: a day. Longer
	// items count as a day in the percentiles (the maximum stays exact).
	maxTrackedUS  = 24 * 3600 * 1_000_000
	durationBatch = 256
	// DurationError is the relative error of the duration percentiles.
	DurationError = 0.001
)

func newDurations() *durations {
	return &durations{h: hdrhistogram.New(1, maxTrackedUS, 3)}
}

// micros converts an item's duration in milliseconds to microseconds.
func micros(ms float64) int64 { return int64(math.Round(ms * 1000)) }

// add records a batch of durations in microseconds.
func (d *durations) add(batch []int64) {
	if len(batch) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, v := range batch {
		d.max = max(d.max, v)
		_ = d.h.RecordValue(min(max(v, 0), maxTrackedUS))
	}
}

// count is the number of durations recorded.
func (d *durations) count() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.h.TotalCount()
}

// percentile returns the nearest-rank p-th percentile in milliseconds,
// rounded up to the histogram's resolution.
func (d *durations) percentile(p float64) float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.h.TotalCount()
	if n == 0 {
		return 0
	}
	// Nearest rank is ceil(p/100*n); the histogram rounds p/100*n+0.5
	// down, so ask for the percentile whose rank rounds to ours.
	rank := max(math.Ceil(p/100*float64(n)), 1)
	v := d.h.ValueAtPercentile(100 * (rank - 0.25) / float64(n))
	return float64(min(v, d.max)) / 1000
}

// maxMS is the longest duration, exactly, in milliseconds.
func (d *durations) maxMS() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return float64(d.max) / 1000
}
