package exec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/flowrun/flowrun/internal/jsonenc"
	"github.com/flowrun/flowrun/pkg/mask"
)

// WriteJSON writes the report to w as one JSON value, masked by m as
// Masked masks it (nil: as it is): the same value that json.Marshal of
// Masked gives (a step's results come last among its fields, one a line;
// escaping and whitespace differ). It is streamed and masks a result at a
// time, so that the report of a block that kept 100,000 results is never
// copied nor held as one buffer of JSON, and results are encoded without
// reflection. It fails, as json.Marshal does, on a value JSON cannot hold.
func (r *Report) WriteJSON(w io.Writer, m *mask.Masker) error {
	head := *r
	head.Steps = nil
	if m != nil {
		head = *head.Masked(m)
		head.Steps = nil
	}
	b, err := json.Marshal(&head)
	if err != nil {
		return err
	}
	// {"workflow":..., "steps":null, "outputs":...}: the steps go where
	// the null is. The key is found by decoding, not by searching the
	// text, which an output could contain.
	at, err := fieldOffset(b, "steps")
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(b[at:], []byte("null")) {
		return fmt.Errorf("report JSON with steps %.10q where null was written", b[at:])
	}
	if _, err := w.Write(b[:at]); err != nil {
		return err
	}
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	for i, s := range r.Steps {
		if i > 0 {
			if _, err := io.WriteString(w, ","); err != nil {
				return err
			}
		}
		if err := s.writeJSON(w, m); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(w, "]"); err != nil {
		return err
	}
	_, err = w.Write(b[at+len("null"):])
	return err
}

// writeJSON writes a step's report, masked by m: its fields, then its
// results one by one.
func (s *StepReport) writeJSON(w io.Writer, m *mask.Masker) error {
	head := *s
	head.Results = nil
	if m != nil {
		maskStep(m, &head)
	}
	b, err := json.Marshal(&head)
	if err != nil {
		return err
	}
	if len(s.Results) == 0 { // omitempty
		_, err := w.Write(b)
		return err
	}
	// {...} becomes {..., "results": [...]}, a result a line.
	buf := append(b[:len(b)-1:len(b)-1], `,"results":[`...)
	for i, res := range s.Results {
		if i > 0 {
			buf = append(buf, ",\n"...)
		}
		if m != nil {
			res = maskedResult(m, res) // a copy only when masking changes it
		}
		if buf, err = appendResult(buf, res); err != nil {
			return err
		}
		if len(buf) >= 32<<10 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err = w.Write(append(buf, "]}"...))
	return err
}

// appendResult appends an item's result as json.Marshal encodes it,
// without reflection: a report may hold a million of them. Its fields and
// their order are ItemResult's (TestAppendResultFields checks that none is
// missed).
func appendResult(b []byte, r *ItemResult) ([]byte, error) {
	var err error
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(r.Index), 10)
	b = append(b, `,"key":`...)
	b = jsonenc.AppendString(b, r.Key)
	b = append(b, `,"status":`...)
	b = jsonenc.AppendString(b, string(r.Status))
	b = append(b, `,"output":`...)
	if r.outJSON != nil {
		b = append(b, r.outJSON...)
	} else if b, err = appendOutput(b, r.Output); err != nil {
		return b, err
	}
	if r.Error != "" {
		b = append(b, `,"error":`...)
		b = jsonenc.AppendString(b, r.Error)
	}
	b = append(b, `,"attempts":`...)
	b = strconv.AppendInt(b, int64(r.Attempts), 10)
	if r.Restored {
		b = append(b, `,"restored":true`...)
	}
	b = append(b, `,"offset_ms":`...)
	if b, err = jsonenc.AppendFloat(b, r.OffsetMS); err != nil {
		return b, err
	}
	b = append(b, `,"duration_ms":`...)
	if b, err = jsonenc.AppendFloat(b, r.DurationMS); err != nil {
		return b, err
	}
	if r.LatencyMS != 0 {
		b = append(b, `,"latency_ms":`...)
		if b, err = jsonenc.AppendFloat(b, r.LatencyMS); err != nil {
			return b, err
		}
	}
	if r.Lane != 0 {
		b = append(b, `,"lane":`...)
		b = strconv.AppendInt(b, int64(r.Lane), 10)
	}
	if r.Code != 0 {
		b = append(b, `,"code":`...)
		b = strconv.AppendInt(b, int64(r.Code), 10)
	}
	if r.ErrorKind != "" {
		b = append(b, `,"error_kind":`...)
		b = jsonenc.AppendString(b, r.ErrorKind)
	}
	if r.LogTail != "" {
		b = append(b, `,"log_tail":`...)
		b = jsonenc.AppendString(b, r.LogTail)
	}
	if r.Worker != "" {
		b = append(b, `,"worker":`...)
		b = jsonenc.AppendString(b, r.Worker)
	}
	return append(b, '}'), nil
}

// fieldOffset returns the offset of the value of the top-level key in the
// JSON object b.
func fieldOffset(b []byte, key string) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return 0, err
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return 0, err
		}
		var v json.RawMessage
		if k == key {
			// The decoder has read the key; the value starts after the
			// colon and any space.
			off := int(dec.InputOffset())
			for off < len(b) && (b[off] == ':' || b[off] == ' ') {
				off++
			}
			return off, nil
		}
		if err := dec.Decode(&v); err != nil {
			return 0, err
		}
	}
	return 0, fmt.Errorf("report JSON without %q", key)
}

// appendOutput appends an output as ItemResult.MarshalJSON writes it:
// NaN and ±Inf as strings (steps.NonFinite).
func appendOutput(b []byte, v any) ([]byte, error) {
	b, _, err := jsonenc.Output(b, v)
	return b, err
}
