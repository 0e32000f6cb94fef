package exec

import (
	"math"
	"math/bits"
	"sync"
	"time"
)

// Series is a parallel block second by second, as a load tester reads it:
// what started, what finished, what failed, and the latency percentiles of
// what finished, in each interval since the block started. A long block is
// told in wider intervals (2 s, 4 s, ...) so that it never has more than
// maxPoints of them.
type Series struct {
	// IntervalMS is the width of each point; 1000 unless the block ran
	// longer than maxPoints seconds.
	IntervalMS float64  `json:"interval_ms"`
	Points     []Second `json:"points"`
}

// Second is one interval of a Series. Completed counts the items that
// finished in it, failed ones included; P50MS and P99MS are their latency
// percentiles (from when they were due, in a block with a rate:), within
// about 5% (logarithmic buckets), 0 when none finished.
type Second struct {
	// AtMS is when the interval starts, in milliseconds since the block
	// started.
	AtMS      float64 `json:"at_ms"`
	Started   int     `json:"started"`
	Completed int     `json:"completed"`
	Failed    int     `json:"failed"`
	P50MS     float64 `json:"p50_ms"`
	P99MS     float64 `json:"p99_ms"`
}

// Bin is one bar of a latency histogram: the items whose latency was at
// least FromMS and below ToMS.
type Bin struct {
	FromMS float64 `json:"from_ms"`
	ToMS   float64 `json:"to_ms"`
	Count  int     `json:"count"`
}

// maxPoints bounds a Series: past it, neighbouring intervals merge.
const maxPoints = 600

// logHist counts durations in logarithmic buckets: subBuckets per power of
// two of microseconds, so a bucket is about 9% wide and a percentile read
// from its middle is within about 5%. Fixed size, no allocation to record.
type logHist [logBuckets]uint32

const (
	subBits    = 3
	subBuckets = 1 << subBits
	logBuckets = 40 * subBuckets // up to 2^40 µs, 12 days
)

// bucket returns the bucket of a duration in microseconds.
func bucket(us int64) int {
	if us < subBuckets {
		return int(max(us, 0))
	}
	exp := bits.Len64(uint64(us)) - 1 // us is in [2^exp, 2^(exp+1))
	sub := int(us>>(exp-subBits)) & (subBuckets - 1)
	return min((exp-subBits+1)*subBuckets+sub, logBuckets-1)
}

// bounds returns the microseconds a bucket covers, [lo, hi).
func bounds(b int) (lo, hi float64) {
	if b < subBuckets {
		return float64(b), float64(b + 1)
	}
	exp := b/subBuckets + subBits - 1
	sub := b % subBuckets
	width := math.Ldexp(1, exp-subBits)
	lo = math.Ldexp(1, exp) + float64(sub)*width
	return lo, lo + width
}

func (h *logHist) add(us int64) { h[bucket(us)]++ }

func (h *logHist) merge(o *logHist) {
	for i, n := range o {
		h[i] += n
	}
}

// percentile returns the nearest-rank p-th percentile in milliseconds:
// the middle of its bucket, 0 for an empty histogram.
func (h *logHist) percentile(p float64) float64 {
	var n uint64
	for _, c := range h {
		n += uint64(c)
	}
	if n == 0 {
		return 0
	}
	rank := uint64(max(math.Ceil(p/100*float64(n)), 1))
	var seen uint64
	for b, c := range h {
		if seen += uint64(c); seen >= rank {
			lo, hi := bounds(b)
			return math.Round((lo+hi)/2) / 1000
		}
	}
	return 0
}

// sample is what a finished item adds to its block's series: when it
// started and ended, in microseconds since the block started, its latency
// in microseconds, and whether it ran to a result (succeeded or failed).
type sample struct {
	start, end, latency int64
	finished, failed    bool
}

// series collects a block's samples under a lock, a worker's batch at a
// time (see tally).
type series struct {
	mu       sync.Mutex
	interval int64 // µs
	points   []point
	hist     logHist // every finished item's latency
}

type point struct {
	started, completed, failed int
	hist                       logHist
}

func newSeries() *series { return &series{interval: int64(time.Second / time.Microsecond)} }

func (s *series) add(batch []sample) {
	if len(batch) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range batch {
		s.at(x.start).started++
		if !x.finished {
			continue
		}
		p := s.at(x.end)
		p.completed++
		if x.failed {
			p.failed++
		}
		p.hist.add(x.latency)
		s.hist.add(x.latency)
	}
}

// at returns the point of a time since the block started, widening the
// intervals when the block outgrows maxPoints.
func (s *series) at(us int64) *point {
	i := int(max(us, 0) / s.interval)
	for i >= maxPoints {
		s.widen()
		i = int(max(us, 0) / s.interval)
	}
	for len(s.points) <= i {
		s.points = append(s.points, point{})
	}
	return &s.points[i]
}

// widen doubles the interval, merging neighbouring points.
func (s *series) widen() {
	for i := range (len(s.points) + 1) / 2 {
		p := s.points[2*i]
		if 2*i+1 < len(s.points) {
			q := &s.points[2*i+1]
			p.started += q.started
			p.completed += q.completed
			p.failed += q.failed
			p.hist.merge(&q.hist)
		}
		s.points[i] = p
	}
	s.points = s.points[:(len(s.points)+1)/2]
	s.interval *= 2
}

// result returns the series and the latency histogram for the report. The
// histogram's bins are its buckets merged four to a power of two, from
// the first non-empty one to the last.
func (s *series) result() (*Series, []Bin) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &Series{IntervalMS: float64(s.interval) / 1000, Points: make([]Second, len(s.points))}
	for i := range s.points {
		p := &s.points[i]
		out.Points[i] = Second{
			AtMS: float64(int64(i)*s.interval) / 1000, Started: p.started, Completed: p.completed, Failed: p.failed,
			P50MS: p.hist.percentile(50), P99MS: p.hist.percentile(99),
		}
	}
	const merge = 2 // buckets per bin: subBuckets/merge bins a power of two
	var bins []Bin
	first, last := -1, -1
	for b, c := range s.hist {
		if c > 0 {
			if first < 0 {
				first = b
			}
			last = b
		}
	}
	if first < 0 {
		return out, nil
	}
	for b := first - first%merge; b <= last; b += merge {
		lo, _ := bounds(b)
		_, hi := bounds(b + merge - 1)
		n := 0
		for j := b; j < b+merge; j++ {
			n += int(s.hist[j])
		}
		bins = append(bins, Bin{FromMS: lo / 1000, ToMS: hi / 1000, Count: n})
	}
	return out, bins
}
