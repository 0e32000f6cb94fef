package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

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
}

// start is the start of the body for an error message.
func (b body) start() []byte {
	if b.head == nil && b.text != "" {
		return []byte(b.text[:min(len(b.text), headBytes)])
	}
	return b.head
}

// readBody reads a response body of at most limit bytes (contentLength
// is the server's word for its size, -1 when unknown). A JSON body whose
// text is not needed (keepText false) is decoded as it streams in, by
// flowrun's one JSON policy (steps.DecodeJSON): memory then holds the
// decoded value and the decoder's buffer, never also the text or a
// second copy of it. Any other body is read once into a string, sized by
// contentLength when the server gives it.
func readBody(rd io.Reader, contentLength, limit int64, json, keepText, raw bool) (body, error) {
	// Pooled: an http block reads a body per item.
	c := counters.Get().(*counter)
	*c = counter{lim: io.LimitedReader{R: rd, N: limit + 1}, blank: true}
	defer func() {
		c.lim.R = nil
		counters.Put(c)
	}()
	var b body
	if json && raw && !keepText {
		return readRaw(c, contentLength, limit)
	}
	if json && !keepText {
		v, err := steps.DecodeJSON(c)
		switch {
		case c.n > limit:
			return b, errTooLarge
		case err != nil && c.blank && errors.Is(err, io.ErrUnexpectedEOF):
			// An empty body, or white space only: no value.
			if _, rerr := io.Copy(io.Discard, c); rerr != nil {
				b.head = c.start()
				return b, rerr
			}
			return b, nil
		case err != nil:
			b.head = c.start()
			return b, fmt.Errorf("%w: %w", errNotJSON, err)
		}
		b.value = v
		return b, nil
	}
	var sb strings.Builder
	if contentLength > 0 && contentLength <= limit {
		sb.Grow(int(contentLength))
	}
	if _, err := io.Copy(&sb, c); err != nil {
		b.head = c.start()
		return b, err
	}
	if c.n > limit {
		b.head = c.start()
		return b, errTooLarge
	}
	b.text = sb.String()
	b.value = b.text
	if json {
		if c.blank {
			b.value = nil
			return b, nil
		}
		v, err := steps.DecodeJSON(strings.NewReader(b.text))
		if err != nil {
			return b, fmt.Errorf("%w: %w", errNotJSON, err)
		}
		b.value = v
	}
	return b, nil
}

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
	if c.blank && len(bytes.TrimSpace(p[:n])) > 0 {
		c.blank = false
	}
	return n, err
}

// start returns a copy of the bytes kept for error messages.
func (c *counter) start() []byte { return bytes.Clone(c.head[:c.nhead]) }

// readRaw reads a JSON body whose value nobody reads (steps.Input.
// OutputUnread): when its text is ASCII without a backslash, it is
// checked and kept compacted, a json.RawMessage, instead of decoded.
// Such text reads the same as its decoded value writes — no escape hides
// a character from masking, which looks for secrets and URLs in it — and
// decodes to it on a resume. Any other body is decoded as readBody does.
func readRaw(c *counter, contentLength, limit int64) (body, error) {
	var b body
	buf := rawBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledRaw {
			buf.Reset()
			rawBufs.Put(buf)
		}
	}()
	buf.Reset()
	if contentLength > 0 && contentLength <= limit {
		buf.Grow(int(contentLength))
	}
	if _, err := buf.ReadFrom(c); err != nil {
		b.head = c.start()
		return b, err
	}
	if c.n > limit {
		b.head = c.start()
		return b, errTooLarge
	}
	text := buf.Bytes()
	if c.blank {
		return b, nil // no value, as readBody
	}
	if plainJSONText(text) && json.Valid(text) {
		out := bytes.NewBuffer(make([]byte, 0, len(text)))
		if err := json.Compact(out, text); err == nil {
			b.value = json.RawMessage(out.Bytes())
			return b, nil
		}
	}
	v, err := steps.DecodeJSON(bytes.NewReader(text))
	if err != nil {
		b.head = c.start()
		return b, fmt.Errorf("%w: %w", errNotJSON, err)
	}
	b.value = v
	return b, nil
}

// plainJSONText reports whether text is ASCII without a backslash.
func plainJSONText(text []byte) bool {
	for _, c := range text {
		if c >= utf8.RuneSelf || c == '\\' {
			return false
		}
	}
	return true
}

var rawBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledRaw = 64 << 10
