package exec

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRateLatencyCountsTheWait: with rate:, an item's latency runs from
// when the rate said it was due, so a block whose workers cannot keep up
// shows it (coordinated omission), and says the rate was not kept.
func TestRateLatencyCountsTheWait(t *testing.T) {
	// One worker, items of 20ms, asked for 200/s: it can do 50/s. Item k
	// is due at 5k ms and starts at 20k ms at the earliest.
	rep := runYAML(t, `
version: 1
steps:
  - id: load
    parallel: {items: "${{ 1..20 }}", workers: 1, rate: 200/s}
    probe: {delay: 20ms}
`, Options{})
	st := rep.Step("load")
	s := st.Summary
	if st.Status != Succeeded || s.Succeeded != 20 {
		t.Fatalf("load %s, summary %+v; want 20 items that succeeded", st.Status, s)
	}
	// The last item waited for the 19 before it: 380ms at least, against
	// its 20ms of service.
	if s.LatencyMaxMS < 4*s.MaxMS || s.LatencyP99MS < 4*s.P99MS {
		t.Errorf("latency p99 %.1fms, max %.1fms against service p99 %.1fms, max %.1fms; want the wait for the worker counted",
			s.LatencyP99MS, s.LatencyMaxMS, s.P99MS, s.MaxMS)
	}
	last := st.Results[19]
	if last.LatencyMS < last.DurationMS+200 {
		t.Errorf("the last item's latency %.1fms, duration %.1fms; want it to count the 300ms it was late", last.LatencyMS, last.DurationMS)
	}
	if s.RateAskedPerSec != 200 || s.RateAchievedPerSec <= 0 || s.RateAchievedPerSec > 100 {
		t.Errorf("rate asked %v, achieved %v; want 200 and at most 100", s.RateAskedPerSec, s.RateAchievedPerSec)
	}
	if len(st.Warnings) != 1 || !strings.HasPrefix(st.Warnings[0], "rate 200/s asked, ") || !strings.Contains(st.Warnings[0], "/s achieved: raise workers") {
		t.Errorf("warnings %q; want one that the rate was not kept", st.Warnings)
	}
}

// TestLatencyIsServiceTimeWithoutRate: a block without rate: has no
// schedule; its latency percentiles are its service times.
func TestLatencyIsServiceTimeWithoutRate(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 1..10 }}", workers: 2}
    probe: {delay: 1ms}
`, Options{})
	st := rep.Step("fan")
	s := st.Summary
	if s.LatencyP50MS != s.P50MS || s.LatencyP99MS != s.P99MS || s.LatencyMaxMS != s.MaxMS || s.RateAskedPerSec != 0 {
		t.Errorf("summary %+v; want latency equal to service time and no rate", s)
	}
	for _, r := range st.Results {
		if r.LatencyMS != 0 {
			t.Errorf("item %d has latency_ms %v; want none without a rate", r.Index, r.LatencyMS)
		}
		if r.Lane < 1 || r.Lane > 2 {
			t.Errorf("item %d ran on worker %d; want 1 or 2", r.Index, r.Lane)
		}
	}
	if len(st.Warnings) != 0 {
		t.Errorf("warnings %q; want none", st.Warnings)
	}
}

// TestDurationStopsStartingItems: a block with duration: starts no item
// once it has passed; those items are not started — neither failed nor
// cancelled — and the block succeeds. Items running at the deadline
// finish.
func TestDurationStopsStartingItems(t *testing.T) {
	tests := []struct {
		name, parallel string
	}{
		{"with a rate", `{items: "${{ 1..1000000 }}", workers: 4, rate: 100/s, duration: 200ms}`},
		{"without a rate", `{items: "${{ 1..1000000 }}", workers: 2, duration: 200ms}`},
		{"with a limit per key", `{items: "${{ 1..1000000 }}", workers: 4, rate: 200/s, duration: 200ms, limit: {key: "${{ item % 3 }}", max: 1}}`},
		{"a list", `{items: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40], workers: 1, duration: 200ms}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := runYAML(t, fmt.Sprintf(`
version: 1
steps:
  - id: load
    parallel: %s
    probe: {delay: 10ms}
`, tt.parallel), Options{})
			st := rep.Step("load")
			s := st.Summary
			if st.Status != Succeeded || rep.Status != Succeeded {
				t.Fatalf("load %s (%s), run %s; want both succeeded", st.Status, st.Error, rep.Status)
			}
			if s.Succeeded == 0 || s.NotStarted == 0 || s.Failed != 0 || s.Cancelled != 0 || s.Succeeded+s.NotStarted != s.Total {
				t.Errorf("summary %+v; want items that succeeded, the rest not started, none failed or cancelled", s)
			}
			for _, r := range st.Results {
				if r.Status != Succeeded && r.Status != NotStarted {
					t.Errorf("item %d %s; want succeeded or not_started", r.Index, r.Status)
				}
			}
		})
	}
}

// TestDurationLetsRunningItemsFinish: the items running when the
// duration ends are not cancelled.
func TestDurationLetsRunningItemsFinish(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: load
    parallel: {items: "${{ 1..10 }}", workers: 2, duration: 50ms}
    probe: {delay: 300ms}
`, Options{})
	s := rep.Step("load").Summary
	if s.Succeeded != 2 || s.NotStarted != 8 || s.Cancelled != 0 {
		t.Errorf("summary %+v; want the 2 items running at the end to succeed, 8 not started", s)
	}
}

// TestDurationShareOfFailures: max_failures as a share applies to the
// items a duration let start, not to the million listed.
func TestDurationShareOfFailures(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: load
    parallel: {items: "${{ 1..1000000 }}", workers: 2, duration: 100ms, on_error: continue, max_failures: 10%}
    probe: {delay: 5ms, fail: "${{ item % 2 == 0 }}"}
`, Options{})
	st := rep.Step("load")
	if st.Status != Failed || !strings.Contains(st.Error, "items started failed (max_failures ") {
		t.Errorf("load %s (%s); want failed: half the items that ran failed, more than 10%% of them", st.Status, st.Error)
	}
}

// TestStatusCodesAndErrorKinds: an http block counts its responses by
// status and its failures by kind.
func TestStatusCodesAndErrorKinds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("do") {
		case "503":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "404":
			w.WriteHeader(http.StatusNotFound)
		case "slow":
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		case "reset":
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0) // close with a RST
				}
				conn.Close()
			}
		}
	}))
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()

	wf := loadHTTP(t, fmt.Sprintf(`
version: 1
steps:
  - id: load
    parallel:
      items: [ok, ok, ok, "503", "404", slow, reset, refused]
      workers: 8
      on_error: continue
    http:
      url: '${{ item == "refused" ? "%s" : "%s/?do=" + item }}'
      timeout: 200ms
`, refused, srv.URL))
	rep := Run(context.Background(), wf, Options{})
	s := rep.Step("load").Summary
	if s == nil {
		t.Fatalf("no summary: %s", rep.Error)
	}
	wantCodes := map[string]int{"200": 3, "503": 1, "404": 1}
	wantErrors := map[string]int{"expectation_failed": 2, "timeout": 1, "reset": 1, "connection_refused": 1}
	if diff := cmp.Diff(wantCodes, s.StatusCodes); diff != "" {
		t.Errorf("status codes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantErrors, s.Errors); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// TestSeriesAndHistogram: the per-second series and the latency
// histogram account for every item that ran.
func TestSeriesAndHistogram(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 1..50 }}", workers: 5, on_error: continue}
    probe: {delay: 2ms, fail: "${{ item % 10 == 0 }}"}
`, Options{})
	st := rep.Step("fan")
	if st.Series == nil || st.Series.IntervalMS != 1000 || len(st.Series.Points) == 0 {
		t.Fatalf("series %+v; want points a second apart", st.Series)
	}
	var started, completed, failed int
	for _, p := range st.Series.Points {
		started, completed, failed = started+p.Started, completed+p.Completed, failed+p.Failed
		if p.Completed > 0 && (p.P50MS <= 0 || p.P99MS < p.P50MS) {
			t.Errorf("point %+v: want 0 < p50 <= p99", p)
		}
	}
	if started != 50 || completed != 50 || failed != 5 {
		t.Errorf("series counts started %d, completed %d, failed %d; want 50, 50, 5", started, completed, failed)
	}
	n := 0
	for i, b := range st.Histogram {
		n += b.Count
		if b.ToMS <= b.FromMS || i > 0 && b.FromMS != st.Histogram[i-1].ToMS {
			t.Errorf("bin %d %+v does not follow the one before", i, b)
		}
	}
	if n != 50 {
		t.Errorf("the histogram counts %d items; want 50", n)
	}
}

// TestSeriesWidens: a block longer than maxPoints seconds is told in wider
// intervals, never more than maxPoints of them, nothing lost.
func TestSeriesWidens(t *testing.T) {
	s := newSeries()
	var batch []sample
	for sec := range 2000 {
		us := int64(sec) * 1_000_000
		batch = append(batch, sample{start: us, end: us + 1000, latency: 1000, finished: true, failed: sec%4 == 0})
	}
	s.add(batch)
	out, _ := s.result()
	if len(out.Points) > maxPoints || out.IntervalMS != 4000 {
		t.Fatalf("%d points of %vms; want at most %d of 4000ms", len(out.Points), out.IntervalMS, maxPoints)
	}
	var started, failed int
	for _, p := range out.Points {
		started, failed = started+p.Started, failed+p.Failed
	}
	if started != 2000 || failed != 500 {
		t.Errorf("started %d, failed %d; want 2000 and 500", started, failed)
	}
}

// TestLogHist: every duration falls in a bucket whose bounds hold it, and
// a percentile read from the buckets is within 5% of the exact one.
func TestLogHist(t *testing.T) {
	for _, us := range []int64{0, 1, 7, 8, 9, 15, 16, 100, 1000, 1023, 1024, 123456, 1 << 33} {
		lo, hi := bounds(bucket(us))
		if float64(us) < lo || float64(us) >= hi {
			t.Errorf("%dµs in bucket [%v, %v)", us, lo, hi)
		}
	}
	var h logHist
	for us := int64(1000); us <= 100_000; us += 10 {
		h.add(us)
	}
	for _, p := range []float64{50, 99} {
		exact := (1000 + p/100*99_000) / 1000
		if got := h.percentile(p); math.Abs(got-exact)/exact > 0.05 {
			t.Errorf("p%v %vms; want within 5%% of %vms", p, got, exact)
		}
	}
}

func TestRateWarning(t *testing.T) {
	tests := []struct {
		asked, achieved float64
		want            string
	}{
		{500, 312.4, "rate 500/s asked, 312/s achieved: raise workers (8 were all busy)"},
		{500, 490, ""},
		{5000, 4043.454, "rate 5,000/s asked, 4,043/s achieved: raise workers (8 were all busy)"},
		{0.5, 0.2, "rate 0.5/s asked, 0.2/s achieved: raise workers (8 were all busy)"},
		{0, 0, ""},
	}
	for _, tt := range tests {
		if got := rateWarning(blockEnd{workers: 8, asked: tt.asked, achieved: tt.achieved}); got != tt.want {
			t.Errorf("asked %v, achieved %v: got %q; want %q", tt.asked, tt.achieved, got, tt.want)
		}
	}
}
