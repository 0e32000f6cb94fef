package cli

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"

	"github.com/flowrun/flowrun/pkg/exec"
)

// The HTML report is one page with no network assets: inline CSS and SVG
// drawn here, no script. It shows a timeline of the steps and, under each
// parallel block, its items on one lane per worker; then a latency
// histogram per block.

const (
	timelineWidth  = 900.0 // px of the time axis
	laneHeight     = 6.0   // px per worker lane
	maxItemsDrawn  = 5000  // a block beyond this shows its step bar only
	histogramBins  = 20
	histogramWidth = 600.0
	histogramTall  = 120.0
)

type htmlRect struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type htmlBlock struct {
	ID      string
	Summary *exec.Summary
	Bars    []htmlRect
	Labels  []htmlRect // Title holds the label
	Height  float64
}

type htmlPage struct {
	Rep      *exec.Report
	Duration string
	Timeline []htmlRect
	Labels   []htmlRect
	Height   float64
	Width    float64
	Blocks   []htmlBlock
	Failures []*exec.ItemResult
	Outputs  []htmlOutput // in the order the workflow declares them
}

type htmlOutput struct{ Name, Text, Error string }

func writeHTMLReport(w io.Writer, rep *exec.Report) error {
	p := htmlPage{Rep: rep, Duration: fmtMS(rep.DurationMS), Width: timelineWidth + 160}
	for _, o := range rep.OrderedOutputs() {
		p.Outputs = append(p.Outputs, htmlOutput{o.Name, outputText(o.Value), o.Error})
	}
	total := max(rep.DurationMS, 1)
	x := func(ms float64) float64 { return 150 + ms/total*timelineWidth }
	y := 10.0
	for _, st := range rep.Steps {
		p.Labels = append(p.Labels, htmlRect{X: 0, Y: y + 11, Title: st.ID})
		if !st.StartedAt.IsZero() {
			off := float64(st.StartedAt.Sub(rep.StartedAt).Microseconds()) / 1000
			p.Timeline = append(p.Timeline, htmlRect{X: x(off), Y: y, W: max(st.DurationMS/total*timelineWidth, 1), H: 14,
				Class: string(st.Status), Title: fmt.Sprintf("%s %s in %s", st.ID, st.Status, fmtMS(st.DurationMS))})
		}
		y += 20
		if len(st.Results) > 0 && len(st.Results) <= maxItemsDrawn {
			lanes := []float64{} // end of the last item on each lane
			order := make([]*exec.ItemResult, 0, len(st.Results))
			for _, r := range st.Results {
				if r.Status == exec.Succeeded || r.Status == exec.Failed || r.Attempts > 0 {
					order = append(order, r)
				}
			}
			slices.SortFunc(order, func(a, b *exec.ItemResult) int { return cmpFloat(a.OffsetMS, b.OffsetMS) })
			for _, r := range order {
				lane := slices.IndexFunc(lanes, func(end float64) bool { return end <= r.OffsetMS })
				if lane < 0 {
					lane = len(lanes)
					lanes = append(lanes, 0)
				}
				lanes[lane] = r.OffsetMS + r.DurationMS
				p.Timeline = append(p.Timeline, htmlRect{X: x(r.OffsetMS), Y: y + float64(lane)*laneHeight, W: max(r.DurationMS/total*timelineWidth, 0.5), H: laneHeight - 1,
					Class: string(r.Status), Title: fmt.Sprintf("%s#%d (key %s) %s in %s", st.ID, r.Index, r.Key, r.Status, fmtMS(r.DurationMS))})
			}
			y += float64(len(lanes))*laneHeight + 6
		}
		if st.Summary != nil {
			p.Blocks = append(p.Blocks, histogram(st))
		}
		for _, r := range st.Results {
			if r.Status == exec.Failed {
				p.Failures = append(p.Failures, r)
			}
		}
	}
	p.Height = y + 24
	for i := 0; i <= 4; i++ {
		ms := total * float64(i) / 4
		p.Labels = append(p.Labels, htmlRect{X: x(ms), Y: y + 16, Title: fmtMS(ms), Class: "axis"})
	}
	return htmlTemplate.Execute(w, p)
}

// histogram draws the durations of a block's items that ran, in
// histogramBins equal bins from the shortest to the longest.
func histogram(st *exec.StepReport) htmlBlock {
	b := htmlBlock{ID: st.ID, Summary: st.Summary, Height: histogramTall + 20}
	var ds []float64
	for _, r := range st.Results {
		if r.Status == exec.Succeeded || r.Status == exec.Failed {
			ds = append(ds, r.DurationMS)
		}
	}
	if len(ds) == 0 {
		return b
	}
	lo, hi := slices.Min(ds), slices.Max(ds)
	width := (hi - lo) / histogramBins
	counts := make([]int, histogramBins)
	for _, d := range ds {
		i := histogramBins - 1
		if width > 0 {
			i = min(int((d-lo)/width), histogramBins-1)
		}
		counts[i]++
	}
	peak := float64(slices.Max(counts))
	bw := histogramWidth / histogramBins
	for i, c := range counts {
		h := float64(c) / peak * histogramTall
		from, to := lo+float64(i)*width, lo+float64(i+1)*width
		b.Bars = append(b.Bars, htmlRect{X: float64(i) * bw, Y: histogramTall - h, W: bw - 2, H: h,
			Title: fmt.Sprintf("%d items between %s and %s", c, fmtMS(from), fmtMS(to))})
	}
	b.Labels = []htmlRect{{X: 0, Y: histogramTall + 14, Title: fmtMS(lo)}, {X: histogramWidth - 40, Y: histogramTall + 14, Title: fmtMS(hi)}}
	return b
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms":  fmtMS,
	"int": func(f float64) int { return int(math.Round(f)) },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>flowrun: {{.Rep.Workflow}} {{.Rep.Status}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:2em}
table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}
.succeeded{fill:#2e9d4c;color:#2e9d4c}.failed{fill:#d03b3b;color:#d03b3b}
.cancelled,.skipped{fill:#d9a520;color:#b8860b}.running{fill:#888}
svg text{font-size:11px;fill:#333}.axis{fill:#777}
.bar{fill:#4a78c2}pre{background:#f6f6f6;padding:6px;white-space:pre-wrap}
</style></head><body>
<h1>{{.Rep.Workflow}} <span class="{{.Rep.Status}}">{{.Rep.Status}}</span> in {{.Duration}}</h1>
<p>Run {{.Rep.RunID}} of {{.Rep.File}}, started {{.Rep.StartedAt.Format "2006-01-02 15:04:05 MST"}}.{{with .Rep.Error}} Error: {{.}}{{end}}</p>
<h2>Steps</h2>
<table><tr><th>step</th><th>status</th><th>duration</th><th>ok</th><th>failed</th><th>skipped</th><th>cancelled</th><th>p50</th><th>p99</th><th>items/s</th></tr>
{{range .Rep.Steps}}<tr><td>{{.ID}}{{if .Finally}} (finally){{end}}</td><td class="{{.Status}}">{{.Status}}{{if .Incomplete}} (incomplete){{end}}</td><td>{{ms .DurationMS}}</td>{{with .Summary}}<td>{{.Succeeded}}</td><td>{{.Failed}}</td><td>{{.Skipped}}</td><td>{{.Cancelled}}</td><td>{{ms .P50MS}}</td><td>{{ms .P99MS}}</td><td>{{.ItemsPerSec}}</td>{{else}}<td colspan="7"></td>{{end}}</tr>
{{end}}</table>
<h2>Timeline</h2>
<svg width="{{.Width}}" height="{{.Height}}" xmlns="http://www.w3.org/2000/svg">
{{range .Labels}}<text x="{{.X}}" y="{{.Y}}"{{with .Class}} class="{{.}}"{{end}}>{{.Title}}</text>
{{end}}{{range .Timeline}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" class="{{.Class}}"><title>{{.Title}}</title></rect>
{{end}}</svg>
{{range .Blocks}}<h2>{{.ID}}: item latency</h2>
<p>{{.Summary.Total}} items on {{.Summary.Workers}} workers; p50 {{ms .Summary.P50MS}}, p95 {{ms .Summary.P95MS}}, p99 {{ms .Summary.P99MS}}, max {{ms .Summary.MaxMS}}; {{.Summary.ItemsPerSec}} items/s.</p>
{{if .Bars}}<svg width="{{int 620.0}}" height="{{.Height}}" xmlns="http://www.w3.org/2000/svg">
{{range .Bars}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" class="bar"><title>{{.Title}}</title></rect>
{{end}}{{range .Labels}}<text x="{{.X}}" y="{{.Y}}">{{.Title}}</text>
{{end}}</svg>{{end}}
{{range .Summary.Limits}}<p>At most {{.Max}} at once per {{.Key}}: peak {{.Peak}}, {{.Held}} items waited.</p>
<table><tr><th>key</th><th>most at once</th></tr>{{range .Keys}}<tr><td>{{.Key}}</td><td>{{.Peak}}</td></tr>{{end}}</table>
{{end}}{{end}}{{with .Failures}}<h2>Failed items</h2>
{{range .}}<p class="failed">item {{.Index}} (key {{.Key}})</p><pre>{{.Error}}{{with .LogTail}}
{{.}}{{end}}</pre>
{{end}}{{end}}{{with .Outputs}}<h2>Outputs</h2><table>{{range .}}<tr><td>{{.Name}}</td>{{if .Error}}<td class="failed">not evaluated: {{.Error}}</td>{{else}}<td>{{.Text}}</td>{{end}}</tr>{{end}}</table>{{end}}
</body></html>
`))
