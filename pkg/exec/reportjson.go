package exec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// WriteJSON writes the report to w as one JSON value: the same value that
// json.Marshal gives (a step's results come last among its fields, and
// whitespace differs), streamed a result at a time, so that the report of
// a block that kept 100,000 results is never also held as one buffer of
// JSON. It fails, as json.Marshal does, on a value JSON cannot hold.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	head := *r
	head.Steps = nil
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
		if err := s.writeJSON(w, enc); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(w, "]"); err != nil {
		return err
	}
	_, err = w.Write(b[at+len("null"):])
	return err
}

// writeJSON writes a step's report: its fields, then its results one by
// one.
func (s *StepReport) writeJSON(w io.Writer, enc *json.Encoder) error {
	head := *s
	head.Results = nil
	b, err := json.Marshal(&head)
	if err != nil {
		return err
	}
	if len(s.Results) == 0 { // omitempty
		_, err := w.Write(b)
		return err
	}
	// {...} becomes {..., "results": [...]}.
	if _, err := w.Write(b[:len(b)-1]); err != nil {
		return err
	}
	if _, err := io.WriteString(w, `,"results":[`); err != nil {
		return err
	}
	for i, res := range s.Results {
		if i > 0 {
			if _, err := io.WriteString(w, ","); err != nil {
				return err
			}
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
	}
	_, err = io.WriteString(w, "]}")
	return err
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
