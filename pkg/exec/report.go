package exec

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// Status is the outcome of a run, a step or an item.
type Status string

// Statuses.
const (
	Pending   Status = ""
	Running   Status = "running"
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
	Skipped   Status = "skipped"
	Cancelled Status = "cancelled"
	// NotStarted is an item of a block whose duration: ended before the
	// item's turn: neither failed nor cancelled, and the block succeeds
	// if nothing else failed.
	NotStarted Status = "not_started"
)

// Report is the result of a run: what `--output json` prints.
type Report struct {
	Workflow   string         `json:"workflow"`
	File       string         `json:"file"`
	RunID      string         `json:"run_id"`
	Status     Status         `json:"status"`
	Error      string         `json:"error,omitempty"`
	StartedAt  time.Time      `json:"started_at"`
	DurationMS float64        `json:"duration_ms"`
	Inputs     map[string]any `json:"inputs"`
	// Steps are the main steps in file order, then the finally steps.
	Steps []*StepReport `json:"steps"`
	// Outputs are the workflow's outputs that could be evaluated, whatever
	// the run's status; JSON writes them in the order the workflow
	// declares them (OrderedOutputs). OutputErrors are those that could
	// not be, each with its error, in the same order.
	Outputs      map[string]any `json:"outputs"`
	OutputErrors []OutputError  `json:"output_errors,omitempty"`

	outputOrder []string // the declared order of the outputs
}

// Step returns the report of the step with the given id, or nil.
func (r *Report) Step(id string) *StepReport {
	for _, s := range r.Steps {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// StepReport is the result of one step.
type StepReport struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Finally bool   `json:"finally,omitempty"`
	Status  Status `json:"status"`
	// Reason says why a step was skipped or cancelled.
	Reason string `json:"reason,omitempty"`
	// Error is the failure, prefixed with its position in the file.
	Error      string    `json:"error,omitempty"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	DurationMS float64   `json:"duration_ms"`
	// Output is a single step's output; a parallel block's outputs are in
	// Results and Outputs.
	Output  any           `json:"output,omitempty"`
	Results []*ItemResult `json:"results,omitempty"`
	// ResultsKept is "failures" when Results holds only the failed items
	// (results: failures, or more items than results: all keeps by
	// default), each with its index; empty when it holds every item.
	ResultsKept string `json:"results_kept,omitempty"`
	// Incomplete is set on a parallel block that started but did not run
	// all its items to the end: cancelled, or stopped by a failure. Its
	// outputs hold null where an item did not succeed, or are null as a
	// whole when the block read its items from a file it did not finish.
	Incomplete bool     `json:"incomplete,omitempty"`
	Summary    *Summary `json:"summary,omitempty"`
	// Series is a parallel block second by second and Histogram its
	// items' latencies in logarithmic bins: what load testers plot.
	Series    *Series `json:"series,omitempty"`
	Histogram []Bin   `json:"histogram,omitempty"`
	// Warnings are what a person should know about a step that did not
	// fail: a block that could not keep its rate.
	Warnings []string `json:"warnings,omitempty"`
	// Attempts counts the tries of a step that is not a parallel block,
	// across every attempt at the run (resume).
	Attempts int `json:"attempts,omitempty"`
	// Restored counts what a resumed run took from earlier attempts at it
	// instead of running it again (see Restorer): a block's items that
	// had succeeded, or 1 for a single step that had; the rest ran in
	// this attempt.
	Restored int `json:"restored,omitempty"`

	// unaligned is set on an incomplete block whose item count is
	// unknown: its outputs cannot line up with items it never read.
	unaligned bool
}

// ItemResult is the result of one item of a parallel block. Results are
// stored by index: Results[i] is item i's, whatever order they finished in.
type ItemResult struct {
	Index  int    `json:"index"`
	Key    string `json:"key"`
	Status Status `json:"status"`
	Output any    `json:"output"`
	Error  string `json:"error,omitempty"`
	// Attempts counts the item's tries, across every attempt at the run.
	Attempts int `json:"attempts"`
	// Restored is set when the item succeeded in an earlier attempt at
	// the run and was not run again in this one (see Restorer).
	Restored bool `json:"restored,omitempty"`
	// OffsetMS is when the item started, in milliseconds since the run
	// started: with DurationMS it places the item on a timeline.
	OffsetMS   float64 `json:"offset_ms"`
	DurationMS float64 `json:"duration_ms"`
	// LatencyMS, in a block with a rate:, is the time from when the item
	// was due to start (Item.Due) to its end: its duration plus the time
	// it waited for a worker. Without a rate it is absent (the duration
	// is the latency).
	LatencyMS float64 `json:"latency_ms,omitempty"`
	// Lane is the block's worker (from 1) that ran the item, absent for
	// an item that did not run: the lane of the report's timeline.
	Lane int `json:"lane,omitempty"`
	// Code and ErrorKind classify the item's last attempt, when its step
	// says (steps.Outcome): a protocol's result code such as an HTTP
	// status, and how it failed (timeout, connection_refused, reset,
	// expectation_failed, other).
	Code      int    `json:"code,omitempty"`
	ErrorKind string `json:"error_kind,omitempty"`
	// LogTail is the last lines (at most 10 and 2 KiB) a failed item wrote
	// to its log: a child process's stderr.
	LogTail string `json:"log_tail,omitempty"`
	// Worker names the cluster worker that ran the item; empty for an
	// item run in this process.
	Worker string `json:"worker,omitempty"`

	// outJSON is Output as JSON once EncodedOutput kept it: see there.
	outJSON []byte
}

// Summary counts a parallel block's items and describes their durations;
// it is also steps.<id>.summary.
type Summary = spec.Summary

// ms is d in milliseconds to the microsecond, in integer arithmetic: it is
// on every item's path.
func ms(d time.Duration) float64 { return float64(d.Round(time.Microsecond)/time.Microsecond) / 1000 }

func round(f float64) float64 { return math.Round(f*1000) / 1000 }

// value is the steps.<id> value expressions see.
func (s *StepReport) value() map[string]any {
	v := spec.StepValue{Status: string(s.Status), Output: s.Output, Summary: s.Summary, OnlyFailures: s.ResultsKept != ""}
	if s.Summary != nil {
		v.Results, v.Outputs = make([]any, len(s.Results)), make([]any, len(s.Results))
		for i, r := range s.Results {
			rv := spec.ResultValue{
				Index: r.Index, Key: r.Key, Status: string(r.Status), Output: r.Output,
				Error: r.Error, Attempts: r.Attempts, DurationMS: r.DurationMS, LogTail: r.LogTail,
			}
			v.Results[i], v.Outputs[i] = rv.Map(), r.Output
		}
		if s.unaligned {
			v.Outputs = nil
		}
	}
	return v.Map()
}

// newStepReport returns the pending report of a step.
func newStepReport(s *spec.Step) *StepReport {
	return &StepReport{ID: s.ID, Type: s.Type, Finally: s.Finally, Status: Pending}
}

// MarshalJSON writes the step's report with the values JSON cannot hold
// (NaN, ±Inf) as strings, by steps.NonFinite, so that a report is always
// a valid document.
func (s StepReport) MarshalJSON() ([]byte, error) {
	type plain StepReport
	p := plain(s)
	p.Output = steps.NonFinite(s.Output, "", nil)
	return json.Marshal(p)
}

// MarshalJSON writes the item's result as StepReport.MarshalJSON does: a
// results_file line is always one valid JSON value.
func (r ItemResult) MarshalJSON() ([]byte, error) { return json.Marshal(r.finite()) }

// itemResultJSON is an ItemResult without its MarshalJSON method.
type itemResultJSON ItemResult

// finite is the result as JSON writes it (see MarshalJSON); the results
// file encodes it directly, saving the validation pass json.Marshal
// makes over what a MarshalJSON method returns.
func (r *ItemResult) finite() *itemResultJSON {
	p := itemResultJSON(*r)
	p.Output = steps.NonFinite(r.Output, "", nil)
	return &p
}

func finiteMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out, _ := steps.NonFinite(m, "", nil).(map[string]any)
	return out
}

// NonFinite calls found with the path of every value of the report that
// JSON cannot hold (NaN, ±Inf), such as "outputs.ratio" or
// "steps.load.results[3].output.p99", which its JSON shows as a string
// (steps.NonFinite).
func (r *Report) NonFinite(found func(path string, f float64)) {
	steps.NonFinite(r.Inputs, "inputs", found)
	steps.NonFinite(r.Outputs, "outputs", found)
	for _, s := range r.Steps {
		at := "steps." + s.ID
		steps.NonFinite(s.Output, at+".output", found)
		for i, res := range s.Results {
			steps.NonFinite(res.Output, fmt.Sprintf("%s.results[%d].output", at, i), found)
		}
	}
}
