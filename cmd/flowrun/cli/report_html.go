package cli

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"

	"github.com/flowrun/flowrun/pkg/exec"
)

// The HTML report is one page with no network assets: inline CSS and SVG
// drawn here, no script. It shows a timeline of the steps and, under each
// parallel block, its items on lanes per worker (its pool's, or the
// cluster workers' by name: report_lanes.go); then, per block, the latency
// histogram on a logarithmic scale and the block second by second
// (charts.go).

const (
	timelineLeft  = 150.0 // px for the step and worker labels
	timelineWidth = 900.0 // px of the time axis
	timelineRight = 40.0  // px past the axis, so its last label fits
	maxItemsDrawn = 5000  // a block beyond this shows its step bar only
)

type htmlRect struct {
	X, Y, W, H float64
	Class      string
	Title      string
	Full       string // a label's whole text, when Title is shortened
	Anchor     string // text-anchor of a label: start (default), middle or end
}

type htmlBlock struct {
	ID        string
	Summary   *exec.Summary
	Histogram *chart
	Series    []*chart
}

type htmlStep struct {
	ID, Status                              string
	Finally, Incomplete                     bool
	Duration                                string
	OK, Failed, Skipped, Cancelled, Started string
	P50, P99, Rate                          string
}

type htmlPage struct {
	Rep      *exec.Report
	Duration string
	Steps    []htmlStep
	Timeline []htmlRect
	Labels   []htmlRect
	Lines    []htmlRect // grid lines: X, Y to X+W, Y+H
	Height   float64
	Width    float64
	Blocks   []htmlBlock
	Failures []*exec.ItemResult
	Outputs  []htmlOutput // in the order the workflow declares them
}

type htmlOutput struct{ Name, Text, Error string }

func writeHTMLReport(w io.Writer, rep *exec.Report) error {
	p := htmlPage{Rep: rep, Duration: fmtMS(rep.DurationMS), Width: timelineLeft + timelineWidth + timelineRight}
	for _, o := range rep.OrderedOutputs() {
		p.Outputs = append(p.Outputs, htmlOutput{o.Name, outputText(o.Value), o.Error})
	}
	total := max(rep.DurationMS, 1)
	x := func(ms float64) float64 { return timelineLeft + ms/total*timelineWidth }
	y := 10.0
	for _, st := range rep.Steps {
		p.Steps = append(p.Steps, stepRow(st))
		p.Labels = append(p.Labels, htmlRect{X: 0, Y: y + 11, Title: st.ID})
		if !st.StartedAt.IsZero() {
			off := float64(st.StartedAt.Sub(rep.StartedAt).Microseconds()) / 1000
			p.Timeline = append(p.Timeline, htmlRect{X: x(off), Y: y, W: max(st.DurationMS/total*timelineWidth, 1), H: 14,
				Class: string(st.Status), Title: fmt.Sprintf("%s %s in %s", st.ID, st.Status, fmtMS(st.DurationMS))})
		}
		y += 20
		if st.Summary != nil {
			y = p.items(st, x, y, total)
			p.Blocks = append(p.Blocks, htmlBlock{ID: st.ID, Summary: st.Summary, Histogram: histogramChart(st), Series: seriesCharts(st)})
		}
		for _, r := range st.Results {
			if r.Status == exec.Failed {
				p.Failures = append(p.Failures, r)
			}
		}
	}
	for i := 0; i <= 4; i++ {
		ms := total * float64(i) / 4
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case 4:
			anchor = "end"
		}
		p.Lines = append(p.Lines, htmlRect{X: x(ms), Y: 4, H: y})
		p.Labels = append(p.Labels, htmlRect{X: x(ms), Y: y + 16, Title: fmtMS(ms), Class: "axis", Anchor: anchor})
	}
	p.Height = y + 24
	return htmlTemplate.Execute(w, p)
}

// items draws a block's items under its step bar, on lanes labelled with
// the worker that ran them (blockLanes), and returns the y below them. A block of more
// than maxItemsDrawn items, or whose results were not kept, says so
// instead.
func (p *htmlPage) items(st *exec.StepReport, x func(float64) float64, y, total float64) float64 {
	s := st.Summary
	ran := s.Succeeded + s.Failed
	switch {
	case s.Total > maxItemsDrawn:
		p.Labels = append(p.Labels, htmlRect{X: timelineLeft, Y: y + 8, Class: "note",
			Title: fmt.Sprintf("%s items: the timeline of items is left out above %s (see the charts below)", thousands(s.Total), thousands(maxItemsDrawn))})
		return y + 18
	case ran > 0 && st.ResultsKept != "":
		p.Labels = append(p.Labels, htmlRect{X: timelineLeft, Y: y + 8, Class: "note",
			Title: "only failed items were kept (results: failures): the timeline of items is left out"})
		return y + 18
	}
	l := blockLanes(st.Results)
	if l.n == 0 {
		return y
	}
	// Lanes tall enough to label each; past thinLanes, thinner lanes,
	// labelled where a label fits below the one before.
	h := 12.0
	if l.n > thinLanes {
		h = 6.0
	}
	last := math.Inf(-1)
	for _, lb := range l.labels {
		ly := y + float64(lb.row)*h + h - 1
		if ly-last < 9 {
			continue
		}
		last = ly
		p.Labels = append(p.Labels, htmlRect{X: timelineLeft - 6, Y: ly, Title: lb.text, Full: lb.full, Class: "lane", Anchor: "end"})
	}
	for i, r := range st.Results {
		if l.row[i] < 0 {
			continue
		}
		p.Timeline = append(p.Timeline, htmlRect{X: x(r.OffsetMS), Y: y + float64(l.row[i])*h, W: max(r.DurationMS/total*timelineWidth, 0.5), H: h - 1,
			Class: string(r.Status), Title: fmt.Sprintf("%s#%d (key %s) %s in %s %s", st.ID, r.Index, r.Key, r.Status, fmtMS(r.DurationMS), l.on(r))})
	}
	return y + float64(l.n)*h + 6
}

// stepRow is a step's row of the table: "-" for what does not apply or
// did not happen, figures rounded for people.
func stepRow(st *exec.StepReport) htmlStep {
	row := htmlStep{ID: st.ID, Status: string(st.Status), Finally: st.Finally, Incomplete: st.Incomplete, Duration: "-",
		OK: "-", Failed: "-", Skipped: "-", Cancelled: "-", Started: "-", P50: "-", P99: "-", Rate: "-"}
	if !st.StartedAt.IsZero() {
		row.Duration = fmtMS(st.DurationMS)
	}
	if s := st.Summary; s != nil {
		row.OK, row.Failed, row.Skipped = thousands(s.Succeeded), thousands(s.Failed), thousands(s.Skipped)
		row.Cancelled, row.Started = thousands(s.Cancelled), thousands(s.NotStarted)
		if s.Succeeded+s.Failed > 0 {
			row.P50, row.P99, row.Rate = fmtMS(s.LatencyP50MS), fmtMS(s.LatencyP99MS), perSec(s.ItemsPerSec)
		}
	}
	return row
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms":        fmtMS,
	"perSec":    perSec,
	"thousands": thousands,
	"counted":   func(m map[string]int) string { return strings.ReplaceAll(counted(m), "  ", ", ") },
	"int":       func(f float64) int { return int(math.Round(f)) },
	"ran":       func(s *exec.Summary) int { return s.Succeeded + s.Failed },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>flowrun: {{.Rep.Workflow}} {{.Rep.Status}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:2em}h3{font-size:1em;margin:1.2em 0 .3em}
table{border-collapse:collapse}td,th{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}
td.n,th.n{text-align:right}
.succeeded{fill:#2e9d4c;color:#2e9d4c}.failed{fill:#d03b3b;color:#d03b3b}
.cancelled,.skipped,.not_started{fill:#d9a520;color:#b8860b}.running{fill:#888}
svg text{font-size:11px;fill:#333}.axis{fill:#777}.lane{fill:#777;font-size:9px}.note{fill:#777;font-style:italic}
.grid{stroke:#e4e4e4;stroke-width:1}.frame{stroke:#999;stroke-width:1}
.bar{fill:#4a78c2}.count{fill:#333;font-size:10px}
.started{stroke:#4a78c2;color:#4a78c2}.completed{stroke:#2e9d4c;color:#2e9d4c}.failedline{stroke:#d03b3b;color:#d03b3b}
.p50{stroke:#2e9d4c;color:#2e9d4c}.p99{stroke:#9b59b6;color:#9b59b6}
polyline{fill:none;stroke-width:1.5}
.key{font-size:12px;margin:.2em 0}.key span{display:inline-block;width:1.2em;height:.3em;vertical-align:middle;margin:0 .3em 0 1em}
.warn{color:#b8860b}pre{background:#f6f6f6;padding:6px;white-space:pre-wrap}
</style></head><body>
<h1>{{.Rep.Workflow}} <span class="{{.Rep.Status}}">{{.Rep.Status}}</span> in {{.Duration}}</h1>
<p>Run {{.Rep.RunID}} of {{.Rep.File}}, started {{.Rep.StartedAt.Format "2006-01-02 15:04:05 MST"}}.{{with .Rep.Error}} Error: {{.}}{{end}}</p>
<h2>Steps</h2>
<table><tr><th>step</th><th>status</th><th class="n">duration</th><th class="n">ok</th><th class="n">failed</th><th class="n">skipped</th><th class="n">cancelled</th><th class="n">not started</th><th class="n">p50</th><th class="n">p99</th><th class="n">rate</th></tr>
{{range .Steps}}<tr><td>{{.ID}}{{if .Finally}} (finally){{end}}</td><td class="{{.Status}}">{{.Status}}{{if .Incomplete}} (incomplete){{end}}</td><td class="n">{{.Duration}}</td><td class="n">{{.OK}}</td><td class="n">{{.Failed}}</td><td class="n">{{.Skipped}}</td><td class="n">{{.Cancelled}}</td><td class="n">{{.Started}}</td><td class="n">{{.P50}}</td><td class="n">{{.P99}}</td><td class="n">{{.Rate}}</td></tr>
{{end}}</table>
<h2>Timeline</h2>
<svg width="{{.Width}}" height="{{.Height}}" xmlns="http://www.w3.org/2000/svg">
{{range .Lines}}<line x1="{{.X}}" y1="{{.Y}}" x2="{{.X}}" y2="{{.H}}" class="grid"/>
{{end}}{{range .Labels}}<text x="{{.X}}" y="{{.Y}}"{{with .Class}} class="{{.}}"{{end}}{{with .Anchor}} text-anchor="{{.}}"{{end}}>{{with .Full}}<title>{{.}}</title>{{end}}{{.Title}}</text>
{{end}}{{range .Timeline}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" class="{{.Class}}"><title>{{.Title}}</title></rect>
{{end}}</svg>
{{range .Blocks}}{{$s := .Summary}}<h2>{{.ID}}</h2>
<p>{{thousands (ran $s)}} of {{thousands $s.Total}} items ran on {{$s.Workers}} workers in {{ms $s.DurationMS}}: {{perSec $s.ItemsPerSec}}{{if $s.RateAskedPerSec}}, started at {{perSec $s.RateAchievedPerSec}} of the {{perSec $s.RateAskedPerSec}} asked{{end}}.{{if $s.NotStarted}} {{thousands $s.NotStarted}} not started: the block's duration ended.{{end}}<br>
{{if ran $s}}{{if $s.RateAskedPerSec}}Latency, from when each item was due: p50 {{ms $s.LatencyP50MS}}, p95 {{ms $s.LatencyP95MS}}, p99 {{ms $s.LatencyP99MS}}, max {{ms $s.LatencyMaxMS}}.<br>
{{end}}Service time, from when each item started: p50 {{ms $s.P50MS}}, p95 {{ms $s.P95MS}}, p99 {{ms $s.P99MS}}, max {{ms $s.MaxMS}}.{{end}}
{{with $s.StatusCodes}}<br>Status codes: {{counted .}}.{{end}}{{with $s.Errors}}<br>Errors: {{counted .}}.{{end}}</p>
{{with .Histogram}}<h3>Latency histogram</h3>{{template "chart" .}}{{end}}
{{with .Series}}<h3>Second by second</h3>{{range .}}{{template "chart" .}}{{end}}{{end}}
{{range $s.Limits}}<p>At most {{.Max}} at once per {{.Key}}: peak {{.Peak}}, {{.Held}} items waited.</p>
<table><tr><th>key</th><th>most at once</th></tr>{{range .Keys}}<tr><td>{{.Key}}</td><td>{{.Peak}}</td></tr>{{end}}</table>
{{end}}{{end}}{{range .Rep.Steps}}{{$id := .ID}}{{range .Warnings}}<p class="warn">warning: {{$id}}: {{.}}</p>{{end}}{{end}}
{{with .Failures}}<h2>Failed items</h2>
{{range .}}<p class="failed">item {{.Index}} (key {{.Key}}){{with .Worker}} on worker {{.}}{{end}}</p><pre>{{.Error}}{{with .LogTail}}
{{.}}{{end}}</pre>
{{end}}{{end}}{{with .Outputs}}<h2>Outputs</h2><table>{{range .}}<tr><td>{{.Name}}</td>{{if .Error}}<td class="failed">not evaluated: {{.Error}}</td>{{else}}<td>{{.Text}}</td>{{end}}</tr>{{end}}</table>{{end}}
</body></html>
{{define "chart"}}{{with .Key}}<p class="key">{{range .}}<span class="{{.Class}}" style="border-top:3px solid"></span>{{.Title}}{{end}}</p>{{end}}<svg width="{{.Width}}" height="{{.Height}}" xmlns="http://www.w3.org/2000/svg">
{{range .Grid}}<line x1="{{.X}}" y1="{{.Y}}" x2="{{.W}}" y2="{{.H}}" class="{{.Class}}"/>
{{end}}{{range .Bars}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" class="bar"><title>{{.Title}}</title></rect>
{{end}}{{range .Lines}}<polyline points="{{.Points}}" class="{{.Class}}"><title>{{.Title}}</title></polyline>
{{end}}{{range .Labels}}<text x="{{.X}}" y="{{.Y}}"{{with .Class}} class="{{.}}"{{end}}{{with .Anchor}} text-anchor="{{.}}"{{end}}>{{.Title}}</text>
{{end}}</svg>{{end}}
`))
