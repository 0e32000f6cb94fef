package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/flowrun/flowrun/internal/jsonenc"
	"github.com/flowrun/flowrun/pkg/steps"
)

// Record types, the "type" field of every journal line.
const (
	TypeStep       = "step"        // a single step finished
	TypeItem       = "item"        // an item of a parallel block finished
	TypeBlockStart = "block_start" // a parallel block started, with its item count
	TypeBlockEnd   = "block_end"   // a parallel block finished
	TypeRun        = "run"         // the run (or this attempt at it) ended
)

// MaxRecord bounds one journal record, its newline included. The Writer
// refuses a bigger record (an output too big to journal) and a reader
// refuses a bigger line, so whatever is written can be read back.
const MaxRecord = 64 << 20

// ItemRecord is the result of one finished item of a parallel block.
type ItemRecord struct {
	Step     string
	Index    int
	Key      string
	Status   string
	Attempts int
	// Output is journaled when non-nil: set it only when the block keeps
	// its items' outputs. A NaN or ±Inf in it is journaled as a string,
	// with its path in the record's "nonfinite" (see Record.NonFinite).
	Output any
	// OutputJSON, when not nil, is Output already encoded as one JSON
	// value (exec.ItemResult.ExactOutput), journaled instead; NonFinite
	// then says where it holds a NaN or ±Inf as a string
	// (steps.NonFinitePaths of Output).
	OutputJSON []byte
	NonFinite  [][]any
	// OutputWithheld says the item had an output that was not journaled
	// (it held a secret): a resume cannot restore it and runs it again.
	OutputWithheld bool
	Error          string
	DurationMS     float64
}

// StepRecord is the result of one finished single step (not a block).
type StepRecord struct {
	ID     string
	Status string
	Output any // journaled when non-nil; NaN and ±Inf as for ItemRecord.Output
	// OutputWithheld: see ItemRecord.
	OutputWithheld bool
	Error          string
	Attempts       int
}

// Record is one journal line as read back: the union of every type's
// fields. Output holds the JSON text of the output, nil when none was
// journaled.
//
// NonFinite is where Output holds a float that JSON cannot (NaN, ±Inf)
// as the string steps.NonFinite writes ("NaN", "+Inf", "-Inf"): one path
// per float, each a list of keys (strings) and indices (integers) from
// the output's root (steps.NonFinitePaths), so that a resume restores
// those strings, and only those, as the floats they were
// (steps.RestoreNonFinite). A record without it holds no such float, or
// was written before flowrun kept it (its strings then stay strings).
type Record struct {
	Type string `json:"type"`
	// ID is a step record's step; Step an item or block record's block.
	ID       string          `json:"id,omitempty"`
	Step     string          `json:"step,omitempty"`
	Index    *int            `json:"index,omitempty"`
	Key      *string         `json:"key,omitempty"`
	Status   string          `json:"status,omitempty"`
	Attempts int             `json:"attempts,omitempty"`
	Output   json.RawMessage `json:"output,omitempty"`
	// NonFinite: see above; indices read back as int.
	NonFinite [][]any `json:"nonfinite,omitempty"`
	// OutputWithheld: the output was not journaled (it held a secret).
	OutputWithheld bool    `json:"output_withheld,omitempty"`
	Error          string  `json:"error,omitempty"`
	DurationMS     float64 `json:"duration_ms,omitempty"`
	Total          *int    `json:"total,omitempty"`
}

// check reports what is missing or wrong in a record read back.
func (r *Record) check() error {
	need := func(ok bool, field string) error {
		if !ok {
			return fmt.Errorf("%s record without %s", r.Type, field)
		}
		return nil
	}
	var errs []error
	switch r.Type {
	case TypeStep:
		errs = append(errs, need(r.ID != "", "id"), need(r.Status != "", "status"))
	case TypeItem:
		errs = append(errs, need(r.Step != "", "step"), need(r.Index != nil && *r.Index >= 0, "index"),
			need(r.Key != nil, "key"), need(r.Status != "", "status"))
	case TypeBlockStart:
		errs = append(errs, need(r.Step != "", "step"), need(r.Total != nil && *r.Total >= 0, "total"))
	case TypeBlockEnd:
		errs = append(errs, need(r.Step != "", "step"), need(r.Status != "", "status"))
	case TypeRun:
		errs = append(errs, need(r.Status != "", "status"))
	case "":
		return errors.New("record without type")
	default:
		return fmt.Errorf("unknown record type %q", r.Type)
	}
	if r.Attempts < 0 {
		errs = append(errs, fmt.Errorf("negative attempts %d", r.Attempts))
	}
	if r.NonFinite != nil {
		errs = append(errs, need(r.Output != nil, "output (it has nonfinite)"), checkPaths(r.NonFinite))
	}
	return errors.Join(errs...)
}

// checkPaths checks the paths of a record's nonfinite — strings, and
// indices that are whole and not negative — and turns indices read by
// encoding/json (float64) into ints, as appendPaths writes them.
func checkPaths(paths [][]any) error {
	for _, p := range paths {
		for i, seg := range p {
			switch x := seg.(type) {
			case string:
			case int:
				if x < 0 {
					return fmt.Errorf("nonfinite path with index %v", x)
				}
			case float64:
				if x < 0 || x != math.Trunc(x) || x >= 1<<53 {
					return fmt.Errorf("nonfinite path with index %v", x)
				}
				p[i] = int(x)
			default:
				return fmt.Errorf("nonfinite path with a segment of type %T", seg)
			}
		}
	}
	return nil
}

// appendItem encodes r as one journal line. out is r.Output already
// encoded (nil: none), nonFinite where it holds a NaN or ±Inf.
func appendItem(b []byte, r *ItemRecord, out []byte, nonFinite [][]any) []byte {
	b = append(b, `{"type":"item","step":`...)
	b = appendString(b, r.Step)
	b = append(b, `,"index":`...)
	b = strconv.AppendInt(b, int64(r.Index), 10)
	b = append(b, `,"key":`...)
	b = appendString(b, r.Key)
	b = appendResult(b, r.Status, r.Attempts, out, nonFinite, r.OutputWithheld, r.Error)
	b = append(b, `,"duration_ms":`...)
	var ok bool
	if b, ok = jsonenc.AppendThousandths(b, r.DurationMS); !ok {
		b = strconv.AppendFloat(b, r.DurationMS, 'f', -1, 64)
	}
	return append(b, "}\n"...)
}

// appendResult encodes the fields an item and a step record share.
func appendResult(b []byte, status string, attempts int, out []byte, nonFinite [][]any, withheld bool, errText string) []byte {
	b = append(b, `,"status":`...)
	b = appendString(b, status)
	b = append(b, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(attempts), 10)
	if out != nil {
		b = append(b, `,"output":`...)
		b = append(b, out...)
		if nonFinite != nil {
			b = append(b, `,"nonfinite":`...)
			b = appendPaths(b, nonFinite)
		}
	}
	if withheld {
		b = append(b, `,"output_withheld":true`...)
	}
	if errText != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, errText)
	}
	return b
}

func appendStep(b []byte, r *StepRecord, out []byte, nonFinite [][]any) []byte {
	b = append(b, `{"type":"step","id":`...)
	b = appendString(b, r.ID)
	b = appendResult(b, r.Status, r.Attempts, out, nonFinite, r.OutputWithheld, r.Error)
	return append(b, "}\n"...)
}

func appendBlockStart(b []byte, step string, total int) []byte {
	b = append(b, `{"type":"block_start","step":`...)
	b = appendString(b, step)
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	return append(b, "}\n"...)
}

func appendBlockEnd(b []byte, step, status string, total int) []byte {
	b = append(b, `{"type":"block_end","step":`...)
	b = appendString(b, step)
	b = append(b, `,"status":`...)
	b = appendString(b, status)
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(total), 10)
	return append(b, "}\n"...)
}

func appendRun(b []byte, status, errText string) []byte {
	b = append(b, `{"type":"run","status":`...)
	b = appendString(b, status)
	if errText != "" {
		b = append(b, `,"error":`...)
		b = appendString(b, errText)
	}
	return append(b, "}\n"...)
}

// appendPaths appends the paths of a record's nonfinite: lists of
// strings and ints.
func appendPaths(b []byte, paths [][]any) []byte {
	b = append(b, '[')
	for i, p := range paths {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, seg := range p {
			if j > 0 {
				b = append(b, ',')
			}
			switch x := seg.(type) {
			case int:
				b = strconv.AppendInt(b, int64(x), 10)
			case string:
				b = appendString(b, x)
			}
		}
		b = append(b, ']')
	}
	return append(b, ']')
}

// encodeOutput encodes an output for the journal, and says where it
// holds a NaN or ±Inf; nil stays nil.
func encodeOutput(v any) ([]byte, [][]any, error) {
	if v == nil {
		return nil, nil, nil
	}
	// NaN and ±Inf as strings, as in reports (steps.NonFinite), and
	// where they are beside them: walked only for an output with one.
	out, shape, err := jsonenc.Output(nil, v)
	if err != nil {
		return nil, nil, fmt.Errorf("output cannot be journaled: %w", err)
	}
	var nonFinite [][]any
	if shape.NonFinite {
		nonFinite = steps.NonFinitePaths(v)
	}
	return out, nonFinite, nil
}

// checkDuration refuses what JSON cannot hold.
func checkDuration(ms float64) error {
	if math.IsNaN(ms) || math.IsInf(ms, 0) {
		return fmt.Errorf("duration %v cannot be journaled", ms)
	}
	return nil
}

// appendString appends s as a JSON string (see jsonenc.AppendString).
func appendString(b []byte, s string) []byte { return jsonenc.AppendString(b, s) }
