package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"unsafe"

	"github.com/flowrun/flowrun/pkg/stepjson"
	"github.com/flowrun/flowrun/pkg/steps"
)

// headBytes is how much of a body is kept for error messages.
const headBytes = 256

// errTooLarge is returned by readBody for a body over max_body.
var errTooLarge = errors.New("response body exceeds max_body")

// body is a response body as the step reads it.
type body struct {
	// value is the decoded JSON, or the text.
	value any
	// text is the whole body when it is kept: a body that is not JSON,
	// or one that expect.body_contains searches.
	text string
	// head is the start of the body, for error messages, when the body
	// could not be read or decoded; see start.
	head []byte
	// checked is value's text when the body is kept as its text
	// (keepJSONText), for an output written as JSON.
	checked stepjson.Text
}

// start is the start of the body for an error message.
func (b body) start() []byte {
	if b.head == nil && b.text != "" {
		return []byte(b.text[:min(len(b.text), headBytes)])
	}
	return b.head
}

// keeping is what readBody keeps of a JSON body.
type keeping int

const (
	// keepDecoded decodes it.
	keepDecoded keeping = iota
	// keepJSONText keeps its text when it writes as its value does; see
	// readBody.
	keepJSONText
	// keepNothing checks it and keeps nothing: the output is dropped
	// (steps.Input.OutputDiscarded).
	keepNothing
)

// readBody reads a response body of at most limit bytes (contentLength
// is the server's word for its size, -1 when unknown) into memory, once.
// A JSON body is then decoded by flowrun's one JSON policy
// (steps.DecodeJSON), unless the value would take more than maxParsed
// bytes of memory (steps.JSONCost; 0: no bound): a *steps.MemoryLimitError,
// found before anything is decoded. With keepJSONText (the output is only
// written: steps.Input.OutputUnread), a JSON body whose text is ASCII
// without a backslash and has no key twice in an object
// (stepjson.CheckText) is kept as that text, compacted, instead: such
// text reads as its value writes — no escape hides a character from
// masking, which looks for secrets and URLs in it — and decodes to it on
// a resume. The bound of
// maxParsed applies to it all the same: a resume and masking decode it.
// With keepNothing the body is checked as JSON, and bounded, as ever,
// and its value is nil: an item fails on the same bodies whether or not
// its output is kept. The text itself is kept when keepText
// (expect.body_contains searches it) and for a body that is not JSON.
func readBody(rd io.Reader, contentLength, limit int64, isJSON, keepText bool, keep keeping, maxParsed int64) (body, error) {
	// Pooled: an http block reads a body per item.
	c := counters.Get().(*counter)
	*c = counter{lim: io.LimitedReader{R: rd, N: limit + 1}, blank: true}
	buf := bodyBufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		c.lim.R = nil
		counters.Put(c)
		if buf.Cap() <= maxPooledBody {
			bodyBufs.Put(buf)
		}
	}()
	if contentLength > 0 && contentLength <= limit {
		buf.Grow(int(contentLength))
	}
	var b body
	if _, err := buf.ReadFrom(c); err != nil {
		b.head = c.start()
		return b, err
	}
	if c.n > limit {
		b.head = c.start()
		return b, errTooLarge
	}
	text := buf.Bytes()
	if keepText || !isJSON {
		b.text = string(text)
		b.value = b.text
	}
	if !isJSON {
		return b, nil
	}
	b.value = nil
	if c.blank {
		return b, nil // an empty body, or white space only: no value
	}
	// Bounded whether or not it is kept as its text: a resume decodes
	// what the journal holds, and masking decodes text holding a URL or
	// a secret, so that such a body is refused either way.
	if err := checkCost(text, maxParsed); err != nil {
		return b, fmt.Errorf("JSON response body of %s: %w", ByteSize(len(text)), err)
	}
	if keep == keepNothing && json.Valid(text) {
		return b, nil
	}
	if keep == keepJSONText {
		// Kept as its text when it reads as the value it decodes to
		// (stepjson.CheckText: plain, no key twice; compacted, and
		// copied out of the pooled buffer); otherwise decoded, also
		// for the decoder's message.
		if t, ok := stepjson.CheckText(text); ok {
			b.value, b.checked = json.RawMessage(t.Bytes()), t
			return b, nil
		}
	}
	v, err := decodeJSON(text)
	if err != nil {
		b.head = c.start()
		return b, fmt.Errorf("%w: %w", errNotJSON, err)
	}
	b.value = v
	return b, nil
}

// checkCost refuses text whose value would take more than maxParsed bytes
// (0: no bound) once decoded, a *steps.MemoryLimitError, or that nests
// deeper than steps.MaxJSONDepth, a *steps.DepthError (steps.CheckJSON).
func checkCost(text []byte, maxParsed int64) error {
	s := unsafe.String(unsafe.SliceData(text), len(text)) // read only, while text is
	return steps.CheckJSON(s, maxParsed)
}

// decodeJSON decodes text (its cost checked first: checkCost). A large
// text is decoded in place (steps.DecodeJSONLimit), without the copy a
// json.Decoder makes of it.
func decodeJSON(text []byte) (any, error) {
	if len(text) > maxPooledBody {
		s := unsafe.String(unsafe.SliceData(text), len(text)) // read only, while text is
		return steps.DecodeJSONLimit(s, 0)
	}
	return steps.DecodeJSON(bytes.NewReader(text))
}

// bodyBufs hold bodies while they are read; a buffer that grew past
// maxPooledBody is dropped rather than kept.
var bodyBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBody = 64 << 10

// errNotJSON is wrapped by readBody's error for a body that says it is
// JSON and is not.
var errNotJSON = errors.New("response says it is JSON but is not")

// counter reads at most a limit through lim, counts the bytes read,
// keeps the first headBytes, and notes whether all were white space.
type counter struct {
	lim   io.LimitedReader
	n     int64
	head  [headBytes]byte
	nhead int
	blank bool
}

var counters = sync.Pool{New: func() any { return new(counter) }}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.lim.Read(p)
	c.n += int64(n)
	c.nhead += copy(c.head[c.nhead:], p[:n])
	if c.blank && !jsonSpace(p[:n]) {
		c.blank = false
	}
	return n, err
}

// jsonSpace reports whether b is all white space as JSON has it: space,
// tab, CR and LF (not the vertical tab, form feed or Unicode spaces that
// bytes.TrimSpace also cuts, which make a body that is not JSON).
func jsonSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// start returns a copy of the bytes kept for error messages.
func (c *counter) start() []byte { return bytes.Clone(c.head[:c.nhead]) }
