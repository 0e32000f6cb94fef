package cli

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flowrun/flowrun/pkg/exec"
)

// report is a run of a block of n items on 3 workers, then a step that
// never ran.
func report(n int) *exec.Report {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rep := &exec.Report{Workflow: "wf", File: "wf.yaml", RunID: "r", Status: exec.Succeeded, StartedAt: start, DurationMS: 1000}
	load := &exec.StepReport{ID: "load", Type: "http", Status: exec.Succeeded, StartedAt: start, DurationMS: 1000,
		Summary: &exec.Summary{Total: n, Succeeded: n, Workers: 3, DurationMS: 1000, P50MS: 20, P99MS: 40, LatencyP50MS: 25, LatencyP99MS: 90,
			ItemsPerSec: 5043.454, RateAskedPerSec: 5000, RateAchievedPerSec: 4990, StatusCodes: map[string]int{"200": n}},
		Histogram: []exec.Bin{{FromMS: 16.384, ToMS: 19.661, Count: n - 10}, {FromMS: 19.661, ToMS: 22.938, Count: 0}, {FromMS: 22.938, ToMS: 26.214, Count: 10}},
		Series: &exec.Series{IntervalMS: 1000, Points: []exec.Second{
			{AtMS: 0, Started: n / 2, Completed: n / 2, P50MS: 20, P99MS: 40},
			{AtMS: 1000, Started: n / 2, Completed: n / 2, Failed: 1, P50MS: 21, P99MS: 45}}},
	}
	if n <= 5000 {
		for i := range n {
			load.Results = append(load.Results, &exec.ItemResult{Index: i, Key: strconv.Itoa(i), Status: exec.Succeeded, Attempts: 1,
				OffsetMS: float64(i/3) * 10, DurationMS: 9, Lane: i%3 + 1})
		}
	}
	never := &exec.StepReport{ID: "never", Type: "run", Status: exec.Skipped}
	rep.Steps = []*exec.StepReport{load, never}
	return rep
}

func html(t *testing.T, rep *exec.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := writeHTMLReport(&b, rep); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestHTMLReportReadsWell(t *testing.T) {
	page := html(t, report(30))
	for _, want := range []string{
		// Figures rounded for people.
		`<td class="n">5,043/s</td>`,
		// A step that never ran shows "-", not 0.0ms.
		`<tr><td>never</td><td class="skipped">skipped</td><td class="n">-</td>`,
		// Lanes labelled by worker.
		`>worker 1</text>`, `>worker 3</text>`, "on worker 2",
		// The histogram: counts on its bars, its axes titled, on a log
		// scale; the series plotted.
		`>20</text>`, "latency from when each item was due (logarithmic scale)", ">items</text>",
		"items/s", "seconds since the block started", `class="started"`, `class="p99"`,
		// Both latencies.
		"Latency, from when each item was due: p50 25ms", "Service time, from when each item started: p50 20ms",
		"Status codes: 200: 30",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if strings.Contains(page, "5043.454") {
		t.Errorf("the report shows 5043.454; want it rounded")
	}
}

// TestHTMLTimelineAxisFits: the timeline's labels end inside its width,
// the last one anchored at its end.
func TestHTMLTimelineAxisFits(t *testing.T) {
	page := html(t, report(30))
	svg := regexp.MustCompile(`<svg width="([0-9.]+)"`).FindStringSubmatch(page)
	last := regexp.MustCompile(`<text x="([0-9.]+)" y="[0-9.]+" class="axis" text-anchor="end">1.00s</text>`).FindStringSubmatch(page)
	if svg == nil || last == nil {
		t.Fatalf("no timeline or no last axis label anchored at its end")
	}
	width, _ := strconv.ParseFloat(svg[1], 64)
	x, _ := strconv.ParseFloat(last[1], 64)
	if x > width {
		t.Errorf("the last axis label ends at %v, past the timeline's width %v", x, width)
	}
}

func TestHTMLLargeBlockSaysTimelineLeftOut(t *testing.T) {
	page := html(t, report(40_000))
	if !strings.Contains(page, "40,000 items: the timeline of items is left out above 5,000") {
		t.Errorf("the report does not say the item timeline was left out")
	}
	if strings.Contains(page, ">worker 1</text>") {
		t.Errorf("the report draws lanes for a block over 5,000 items")
	}
}

func TestFigures(t *testing.T) {
	tests := []struct{ got, want string }{
		{perSec(5043.454), "5,043/s"}, {perSec(12.4), "12/s"}, {perSec(0.5), "0.5/s"}, {perSec(0), "0/s"},
		{thousands(1000000), "1,000,000"}, {thousands(999), "999"}, {thousands(-1234), "-1,234"},
		{compact(950), "950"}, {compact(1234), "1.2k"}, {compact(12345), "12k"}, {compact(1_234_567), "1.2M"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q; want %q", tt.got, tt.want)
		}
	}
}

// TestSummaryLoad: the summary under the table shows a load test's rates,
// both latencies, the status codes, what was not started and warnings.
func TestSummaryLoad(t *testing.T) {
	rep := report(30)
	s := rep.Steps[0]
	s.Summary.NotStarted, s.Summary.Total = 970, 1000
	s.Summary.Errors = map[string]int{"timeout": 2}
	s.Warnings = []string{"rate 5,000/s asked, 312/s achieved: raise workers (3 were all busy)"}
	var b bytes.Buffer
	printLoad(&b, rep, func(_, text string) string { return text })
	for _, want := range []string{
		"load: 30 items in 1.00s, 5,043/s; started at 4,990/s, 5,000/s asked\n",
		"  latency  p50 25ms    p95 0       p99 90ms    max 0  (from when each item was due)\n",
		"  service  p50 20ms    p95 0       p99 40ms    max 0  (from when each item started)\n",
		"  status   200: 30\n", "  errors   timeout: 2\n",
		"  not started  970 of 1,000 items (its duration ended)\n",
		"warning: load: rate 5,000/s asked, 312/s achieved: raise workers (3 were all busy)\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("the summary lacks %q:\n%s", want, b.String())
		}
	}
}

// clusterReport is a run of a block of 6 items on two cluster workers
// whose names need escaping, one of them too long for the margin: w<1>
// ran items 0-3, two at a time, and item 3 failed; the other ran 4 and 5.
func clusterReport() *exec.Report {
	rep := report(0)
	load := rep.Steps[0]
	load.Summary.Total, load.Summary.Succeeded, load.Summary.Failed = 6, 5, 1
	long := `b&"c"-` + strings.Repeat("x", 40)
	for i := range 6 {
		r := &exec.ItemResult{Index: i, Key: strconv.Itoa(i), Status: exec.Succeeded, Attempts: 1,
			OffsetMS: float64(i/2) * 100, DurationMS: 90, Lane: 2, Worker: "w<1>"}
		if i >= 4 {
			r.Worker, r.OffsetMS = long, float64(i-4)*100
		}
		if i == 3 {
			r.Status, r.Error = exec.Failed, "exit status 3"
		}
		load.Results = append(load.Results, r)
	}
	return rep
}

// TestHTMLClusterWorkers: a block whose items ran on cluster workers has
// lanes labelled with the workers' names, as many per worker as the items
// it ran at once; each item's tooltip and the failed items name the
// worker; every name is escaped, and a name too long for the margin is
// cut there, whole in the label's tooltip. The coordinator's lanes are
// not shown.
func TestHTMLClusterWorkers(t *testing.T) {
	page := html(t, clusterReport())
	long := `b&amp;&#34;c&#34;-` + strings.Repeat("x", 40)
	for _, want := range []string{
		`>w&lt;1&gt;</text>`,
		`><title>` + long + `</title>b&amp;&#34;c&#34;-` + strings.Repeat("x", 17) + `…</text>`,
		`<title>load#0 (key 0) succeeded in 90ms on worker w&lt;1&gt;</title>`,
		`<title>load#5 (key 5) succeeded in 90ms on worker ` + long + `</title>`,
		`<p class="failed">item 3 (key 3) on worker w&lt;1&gt;</p>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %s", want)
		}
	}
	for _, unwanted := range []string{"<1>", `b&"c"`, "worker 2"} {
		if strings.Contains(page, unwanted) {
			t.Errorf("the report shows %s", unwanted)
		}
	}
	// w<1> ran two items at once: two lanes; the other one at a time:
	// one lane. Items at once on one worker never share a lane.
	ys := map[string]map[string]bool{}
	for _, m := range regexp.MustCompile(`<rect x="[0-9.]+" y="([0-9.]+)"[^>]*><title>load#\d \(key \d\) \w+ in 90ms on worker ([^<]+)</title>`).FindAllStringSubmatch(page, -1) {
		if ys[m[2]] == nil {
			ys[m[2]] = map[string]bool{}
		}
		ys[m[2]][m[1]] = true
	}
	if len(ys["w&lt;1&gt;"]) != 2 || len(ys[long]) != 1 {
		t.Errorf("lanes per worker: %v; want 2 for w<1> and 1 for the other", ys)
	}
	for y := range ys[long] {
		if ys["w&lt;1&gt;"][y] {
			t.Errorf("two workers share the lane at y=%s", y)
		}
	}
}

// TestHTMLLocalNamesNoWorker: the items of a run in one process name the
// lane of the block's pool, and the failed items no worker.
func TestHTMLLocalNamesNoWorker(t *testing.T) {
	rep := report(6)
	r := rep.Steps[0].Results[3]
	r.Status, r.Error = exec.Failed, "exit status 3"
	page := html(t, rep)
	if !strings.Contains(page, `<p class="failed">item 3 (key 3)</p>`) {
		t.Errorf("the failed item is not listed as it was:\n%s", page)
	}
	if !strings.Contains(page, "load#3 (key 3) failed in 9.0ms on worker 1</title>") {
		t.Errorf("the item's tooltip does not name its lane")
	}
}
