package cli

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/flowrun/flowrun/pkg/exec"
)

// chart is one SVG chart of the HTML report: a frame with labelled axes,
// bars or lines, and a key.
type chart struct {
	Width, Height float64
	Grid          []htmlRect // lines from (X, Y) to (W, H)
	Bars          []htmlRect
	Lines         []chartLine
	Labels        []htmlRect
	Key           []htmlRect // Class and Title of each line
}

type chartLine struct {
	Points string
	Class  string
	Title  string
}

// The plot area of a chart, in px from its top left corner.
const (
	plotLeft   = 70.0
	plotTop    = 30.0
	plotWidth  = 720.0
	plotHeight = 160.0
)

// frame starts a chart: its size, the horizontal grid lines with the y
// axis's ticks up to top, and the axes' titles.
func frame(top float64, yTick func(float64) string, xTitle, yTitle string) *chart {
	c := &chart{Width: plotLeft + plotWidth + 30, Height: plotTop + plotHeight + 44}
	step := niceStep(top / 4)
	for v := 0.0; v <= top*1.0001; v += step {
		y := plotTop + plotHeight - v/top*plotHeight
		c.Grid = append(c.Grid, htmlRect{X: plotLeft, Y: y, W: plotLeft + plotWidth, H: y, Class: "grid"})
		c.Labels = append(c.Labels, htmlRect{X: plotLeft - 6, Y: y + 4, Title: yTick(v), Class: "axis", Anchor: "end"})
	}
	bottom := plotTop + plotHeight
	c.Grid = append(c.Grid,
		htmlRect{X: plotLeft, Y: plotTop, W: plotLeft, H: bottom, Class: "frame"},
		htmlRect{X: plotLeft, Y: bottom, W: plotLeft + plotWidth, H: bottom, Class: "frame"})
	c.Labels = append(c.Labels,
		htmlRect{X: plotLeft + plotWidth/2, Y: c.Height - 4, Title: xTitle, Anchor: "middle"},
		htmlRect{X: 4, Y: 12, Title: yTitle, Anchor: "start"})
	return c
}

// niceStep rounds a tick spacing up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*pow {
			return m * pow
		}
	}
	return 10 * pow
}

// niceTop is the top of an axis that holds v: a multiple of its step.
func niceTop(v float64) float64 {
	if v <= 0 {
		return 1
	}
	step := niceStep(v / 4)
	return math.Ceil(v/step) * step
}

// histogramChart draws a block's latency histogram: one bar per
// logarithmic bin (each a fixed share wider than the one before, so the
// x axis is a log scale), its count on top, the axis labelled at every
// doubling. Nil when no item ran.
func histogramChart(st *exec.StepReport) *chart {
	bins := st.Histogram
	if len(bins) == 0 {
		return nil
	}
	// At most 32 bars: past that, neighbours merge (two per doubling).
	perDoubling := 4
	if len(bins) > 32 {
		merged := make([]exec.Bin, 0, (len(bins)+1)/2)
		for i := 0; i < len(bins); i += 2 {
			b := bins[i]
			if i+1 < len(bins) {
				b.ToMS, b.Count = bins[i+1].ToMS, b.Count+bins[i+1].Count
			}
			merged = append(merged, b)
		}
		bins, perDoubling = merged, 2
	}
	peak := 0
	for _, b := range bins {
		peak = max(peak, b.Count)
	}
	top := niceTop(float64(peak))
	what := "latency"
	if st.Summary.RateAskedPerSec > 0 {
		what = "latency from when each item was due"
	}
	c := frame(top, func(v float64) string { return thousands(int(v)) }, what+" (logarithmic scale)", "items")
	bw := plotWidth / float64(len(bins))
	bottom := plotTop + plotHeight
	for i, b := range bins {
		h := float64(b.Count) / top * plotHeight
		x := plotLeft + float64(i)*bw
		c.Bars = append(c.Bars, htmlRect{X: x + 1, Y: bottom - h, W: max(bw-2, 1), H: h,
			Title: fmt.Sprintf("%s items from %s to %s", thousands(b.Count), fmtMS(b.FromMS), fmtMS(b.ToMS))})
		if b.Count > 0 {
			c.Labels = append(c.Labels, htmlRect{X: x + bw/2, Y: bottom - h - 3, Title: compact(b.Count), Class: "count", Anchor: "middle"})
		}
		if i%perDoubling == 0 {
			c.Grid = append(c.Grid, htmlRect{X: x, Y: bottom, W: x, H: bottom + 4, Class: "frame"})
			c.Labels = append(c.Labels, htmlRect{X: x, Y: bottom + 16, Title: fmtMS(b.FromMS), Class: "axis", Anchor: "middle"})
		}
	}
	// The end of the last bin, unless a doubling's label is too close.
	if last := bins[len(bins)-1]; float64((len(bins)-1)%perDoubling+1)*bw >= 45 {
		c.Labels = append(c.Labels, htmlRect{X: plotLeft + plotWidth, Y: bottom + 16, Title: fmtMS(last.ToMS), Class: "axis", Anchor: "middle"})
	}
	return c
}

// seriesCharts draws a block second by second: items started, completed
// and failed per second, then the p50 and p99 latency of the items that
// completed in each second. Nil for a block of fewer than two intervals.
func seriesCharts(st *exec.StepReport) []*chart {
	sr := st.Series
	if sr == nil || len(sr.Points) < 2 {
		return nil
	}
	perSecond := 1000 / sr.IntervalMS
	// The x axis spans the block; a point sits in the middle of its
	// interval, the last one cut short by the block's end.
	span := max(st.Summary.DurationMS, sr.IntervalMS) / 1000
	xOf := func(i int) float64 {
		from := float64(i) * sr.IntervalMS / 1000
		to := min(from+sr.IntervalMS/1000, span)
		return plotLeft + (from+to)/2/span*plotWidth
	}
	xAxis := func(c *chart) {
		step := niceStep(span / 8)
		for t := 0.0; t <= span*1.0001; t += step {
			x := plotLeft + t/span*plotWidth
			c.Grid = append(c.Grid, htmlRect{X: x, Y: plotTop + plotHeight, W: x, H: plotTop + plotHeight + 4, Class: "frame"})
			c.Labels = append(c.Labels, htmlRect{X: x, Y: plotTop + plotHeight + 16, Title: strconv.FormatFloat(t, 'f', -1, 64) + "s", Class: "axis", Anchor: "middle"})
		}
	}

	// The last interval is cut short by the block's end: its counts are
	// per second of what it lasted, and it is left out when that is under
	// a fifth of an interval (too short to say anything).
	points := sr.Points
	perSec := make([]float64, len(points))
	for i, p := range points {
		perSec[i] = perSecond
		if width := st.Summary.DurationMS - p.AtMS; width < sr.IntervalMS {
			perSec[i] = 1000 / max(width, 1)
			if width < sr.IntervalMS/5 && i == len(points)-1 && i > 1 {
				points = points[:i]
			}
		}
	}
	peak := 0.0
	for i, p := range points {
		peak = max(peak, float64(max(p.Started, p.Completed))*perSec[i])
	}
	top := niceTop(peak)
	rates := frame(top, func(v float64) string { return thousands(int(v)) }, "seconds since the block started", "items/s")
	xAxis(rates)
	y := func(v float64) float64 { return plotTop + plotHeight - v/top*plotHeight }
	for _, l := range []struct {
		class, title string
		of           func(exec.Second) int
	}{
		{"started", "started", func(p exec.Second) int { return p.Started }},
		{"completed", "completed", func(p exec.Second) int { return p.Completed }},
		{"failedline", "failed", func(p exec.Second) int { return p.Failed }},
	} {
		var pts []string
		for i, p := range points {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", xOf(i), y(float64(l.of(p))*perSec[i])))
		}
		rates.Lines = append(rates.Lines, chartLine{Points: strings.Join(pts, " "), Class: l.class, Title: l.title + " per second"})
		rates.Key = append(rates.Key, htmlRect{Class: l.class, Title: l.title})
	}

	peakMS := 0.0
	for _, p := range points {
		peakMS = max(peakMS, p.P99MS)
	}
	if peakMS == 0 {
		return []*chart{rates}
	}
	topMS := niceTop(peakMS)
	what := "latency"
	if st.Summary.RateAskedPerSec > 0 {
		what = "latency from when due"
	}
	lat := frame(topMS, fmtMS, "seconds since the block started", what)
	xAxis(lat)
	yMS := func(v float64) float64 { return plotTop + plotHeight - v/topMS*plotHeight }
	for _, l := range []struct {
		class, title string
		of           func(exec.Second) float64
	}{
		{"p50", "p50", func(p exec.Second) float64 { return p.P50MS }},
		{"p99", "p99", func(p exec.Second) float64 { return p.P99MS }},
	} {
		// A second in which nothing completed breaks the line.
		var pts []string
		flush := func() {
			if len(pts) > 0 {
				lat.Lines = append(lat.Lines, chartLine{Points: strings.Join(pts, " "), Class: l.class, Title: l.title + " latency of the items completed each second"})
			}
			pts = nil
		}
		for i, p := range points {
			if p.Completed == 0 {
				flush()
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", xOf(i), yMS(l.of(p))))
		}
		flush()
		lat.Key = append(lat.Key, htmlRect{Class: l.class, Title: l.title})
	}
	return []*chart{rates, lat}
}

// compact writes a count in at most four characters: 950, 12k, 1.2M.
func compact(n int) string {
	switch {
	case n >= 1_000_000:
		return strconv.FormatFloat(float64(n)/1e6, 'g', 2, 64) + "M"
	case n >= 10_000:
		return strconv.Itoa(int(math.Round(float64(n)/1000))) + "k"
	case n >= 1000:
		return strconv.FormatFloat(float64(n)/1000, 'f', 1, 64) + "k"
	}
	return strconv.Itoa(n)
}
