package exec

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unsafe"

	"github.com/flowrun/flowrun/pkg/steps"
)

// DefaultMaxParsed is the most memory the parsed value of one output
// (output: json or lines) or one jsonl item may take unless
// Options.MaxParsed says otherwise. A step's stdout is capped at 64 MiB of
// text, but parsed it can take 40 times that (a JSON list of {"a":1}):
// the parsed value is bounded too, by an estimate made before parsing
// (steps.JSONCost; 32 bytes a line for lines, which share the text), so
// that an item's memory stays near its text and the cap is an error, never
// a value silently cut short.
const DefaultMaxParsed = 64 << 20

// lineCost is what a line of output: lines takes besides its text, which
// the lines share: its slot in the list and its boxed string header.
const lineCost = 32

// parseOutput reads a step's text output according to output: (text, json
// or lines), parsing it into at most limit bytes of memory. Outputs that
// are not text are kept as they are. The text is not copied: lines are
// substrings of it, JSON is decoded from it in place, and a steps.Text's
// pieces are joined only for output: text.
func parseOutput(out any, format string, limit int64) (any, error) {
	var text steps.Text
	switch v := out.(type) {
	case steps.Text:
		text = v
	case string:
		text = steps.NewText([][]byte{stringBytes(v)})
	case []byte:
		text = steps.NewText([][]byte{v})
	default:
		return out, nil
	}
	const raise = "the limit for parsed outputs; raise it with --max-parsed-output, or write large results to a file and read it with items_from"
	switch format {
	case "json":
		v, err := text.DecodeJSON(limit)
		var le *steps.MemoryLimitError
		var de *steps.DepthError
		switch {
		case errors.As(err, &le):
			return nil, fmt.Errorf("output: json: %d bytes of JSON: %v (%s)", text.Len(), err, raise)
		case errors.As(err, &de):
			return nil, fmt.Errorf("output: json: %d bytes of JSON: %v", text.Len(), err)
		case err != nil && strings.Contains(err.Error(), "more than one JSON value"):
			return nil, fmt.Errorf("output holds more than one JSON value (output: %q)", textHead(text))
		case err != nil:
			return nil, fmt.Errorf("output is not JSON: %v (output: %q)", err, textHead(text))
		}
		return v, nil
	case "lines":
		n := text.LineCount()
		if need := int64(n) * lineCost; limit > 0 && need > limit {
			return nil, fmt.Errorf("output: lines: %d lines: %v (%s)", n, &steps.MemoryLimitError{Need: need + int64(text.Len()), Limit: limit}, raise)
		}
		lines := make([]any, 0, n)
		text.Lines(func(l string) bool {
			lines = append(lines, l)
			return true
		})
		return lines, nil
	}
	return strings.TrimRight(text.String(), "\r\n"), nil
}

// textHead is the start of a text, for an error message.
func textHead(t steps.Text) string {
	var b strings.Builder
	_, _ = io.Copy(&b, io.LimitReader(t.Reader(), 201))
	return head(b.String(), 200)
}

// stringBytes is s as bytes, without a copy, to be read only.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// maxParsed is the bound of one parsed output or item.
func (ir *ItemRunner) maxParsed() int64 {
	if ir.MaxParsed > 0 {
		return ir.MaxParsed
	}
	return DefaultMaxParsed
}
