package spec

import (
	"reflect"
	"strings"

	"github.com/expr-lang/expr/types"
)

// StepValue is steps.<id> as expressions read it: pkg/exec fills it from a
// step's report and Map gives the value expressions see. The types the
// checker uses (stepValueType, resultType) are derived from these structs,
// so the shape of steps.<id> is written once, here.
type StepValue struct {
	Status string
	Output any
	// Results (each a ResultValue's Map), Outputs and Summary are a
	// parallel block's: results and outputs by index, as kept. They are
	// nil for a single step. Results are maps already, so that a block of
	// 100,000 items is not held twice while its value is built. Outputs
	// nil beside a Summary is a block whose outputs cannot line up with
	// its items (it stopped before reading them all from a file):
	// steps.<id>.outputs is then null, not an empty list.
	Results, Outputs []any
	Summary          *Summary
	// OnlyFailures is set when only the failed results were kept:
	// steps.<id>.outputs is then left out, as it would not line up with
	// the items (expressions that read it are stopped before they run).
	OnlyFailures bool
}

// ResultValue is one entry of steps.<id>.results.
type ResultValue struct {
	Index      int     `json:"index"`
	Key        string  `json:"key"`
	Status     string  `json:"status"`
	Output     any     `json:"output"`
	Error      string  `json:"error"`
	Attempts   int     `json:"attempts"`
	DurationMS float64 `json:"duration_ms"`
	LogTail    string  `json:"log_tail"`
}

// Summary counts a parallel block's items and describes their durations:
// steps.<id>.summary, and the summary of the run report.
type Summary struct {
	Total     int `json:"total"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
	Cancelled int `json:"cancelled"`
	// NotStarted counts the items a block's duration: ended before
	// their turn.
	NotStarted int `json:"not_started"`
	Workers    int `json:"workers"`
	// P50MS to MaxMS are the items' service times: from when each
	// started to its end.
	P50MS float64 `json:"p50_ms"`
	P95MS float64 `json:"p95_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
	// LatencyP50MS to LatencyMaxMS are the items' latencies: in a block
	// with a rate:, from when each was due to start by the rate, so that
	// time spent waiting for a busy worker counts (as wrk2 and vegeta
	// measure); without a rate, the service times.
	LatencyP50MS float64 `json:"latency_p50_ms"`
	LatencyP95MS float64 `json:"latency_p95_ms"`
	LatencyP99MS float64 `json:"latency_p99_ms"`
	LatencyMaxMS float64 `json:"latency_max_ms"`
	ItemsPerSec  float64 `json:"items_per_sec"`
	// RateAskedPerSec is the block's rate: per second, 0 without one;
	// RateAchievedPerSec the rate at which its items started.
	RateAskedPerSec    float64 `json:"rate_asked_per_sec"`
	RateAchievedPerSec float64 `json:"rate_achieved_per_sec"`
	DurationMS         float64 `json:"duration_ms"`
	// StatusCodes counts items by the code their step reported (an HTTP
	// status: "200"), Errors the failed items by how they failed
	// (timeout, connection_refused, reset, expectation_failed, other).
	// Both are empty for steps that report neither.
	StatusCodes map[string]int `json:"status_codes"`
	Errors      map[string]int `json:"errors"`
	// Limits are the block's limit:s as they ran, in the order written;
	// absent for a block without limits.
	Limits []LimitSummary `json:"limits,omitempty"`
}

// LimitSummary is one limit: of a block as it ran.
type LimitSummary struct {
	// Key is the limit's key expression as written; Max its max.
	Key string `json:"key"`
	Max int    `json:"max"`
	// Peak is the most items that shared a key value running at once,
	// over all key values: never more than Max.
	Peak int `json:"peak"`
	// Held counts the items that waited because their key value had Max
	// items running.
	Held int `json:"held"`
	// Keys are the key values that reached the highest peaks, highest
	// first (then by key), at most MaxKeysListed of them.
	Keys []KeyPeak `json:"keys"`
}

// KeyPeak is the most items with one key value that ran at once.
type KeyPeak struct {
	Key  string `json:"key"`
	Peak int    `json:"peak"`
}

// MaxKeysListed bounds LimitSummary.Keys: a limit over a million key
// values keeps the busiest few, in constant memory.
const MaxKeysListed = 10

// Map returns steps.<id> as plain maps and lists.
func (v *StepValue) Map() map[string]any {
	m := map[string]any{"status": v.Status, "output": v.Output}
	if v.Summary == nil {
		return m
	}
	m["results"] = v.Results
	switch {
	case v.OnlyFailures:
	case v.Outputs == nil:
		m["outputs"] = nil
	default:
		m["outputs"] = v.Outputs
	}
	m["summary"] = v.Summary.Map()
	return m
}

// Map returns the result as the map expressions see; its keys are the
// struct's json names (a test checks it).
func (r *ResultValue) Map() map[string]any {
	return map[string]any{
		"index": r.Index, "key": r.Key, "status": r.Status, "output": r.Output,
		"error": r.Error, "attempts": r.Attempts, "duration_ms": r.DurationMS, "log_tail": r.LogTail,
	}
}

// Map returns the summary as the map expressions see; its keys are the
// struct's json names (a test checks it).
func (s *Summary) Map() map[string]any {
	return map[string]any{
		"total": s.Total, "succeeded": s.Succeeded, "failed": s.Failed,
		"skipped": s.Skipped, "cancelled": s.Cancelled, "not_started": s.NotStarted, "workers": s.Workers,
		"p50_ms": s.P50MS, "p95_ms": s.P95MS, "p99_ms": s.P99MS, "max_ms": s.MaxMS,
		"latency_p50_ms": s.LatencyP50MS, "latency_p95_ms": s.LatencyP95MS,
		"latency_p99_ms": s.LatencyP99MS, "latency_max_ms": s.LatencyMaxMS,
		"items_per_sec": s.ItemsPerSec, "rate_asked_per_sec": s.RateAskedPerSec,
		"rate_achieved_per_sec": s.RateAchievedPerSec, "duration_ms": s.DurationMS,
		"status_codes": counts(s.StatusCodes), "errors": counts(s.Errors),
		"limits": s.limitsValue(),
	}
}

// counts is a count map as expressions see it: values as any.
func counts(m map[string]int) map[string]any {
	out := make(map[string]any, len(m))
	for k, n := range m {
		out[k] = n
	}
	return out
}

// limitsValue is summary.limits as expressions see it: a list of maps
// with the json names of LimitSummary, empty for a block without limits.
func (s *Summary) limitsValue() []any {
	out := make([]any, len(s.Limits))
	for i, l := range s.Limits {
		keys := make([]any, len(l.Keys))
		for j, k := range l.Keys {
			keys[j] = map[string]any{"key": k.Key, "peak": k.Peak}
		}
		out[i] = map[string]any{"key": l.Key, "max": l.Max, "peak": l.Peak, "held": l.Held, "keys": keys}
	}
	return out
}

// structType is the checker's type of a struct's map form: its json
// names with their field types.
func structType(t reflect.Type) types.Map {
	m := types.Map{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		var ft types.Type = types.Any
		switch f.Type.Kind() {
		case reflect.Int:
			ft = types.Int
		case reflect.String:
			ft = types.String
		case reflect.Float64:
			ft = types.Float64
		}
		m[name] = ft
	}
	return m
}

// resultType is one entry of steps.<id>.results.
var resultType = structType(reflect.TypeOf(ResultValue{}))

// stepValueType is the type of steps.<id>.
var stepValueType = types.Map{
	"status":  types.String,
	"output":  types.Any,
	"outputs": types.Array(types.Any),
	"results": types.Array(resultType),
	"summary": structType(reflect.TypeOf(Summary{})),
}
