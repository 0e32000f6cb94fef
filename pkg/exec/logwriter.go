package exec

import (
	"bytes"
	"io"
	"sync"

	"github.com/flowrun/flowrun/pkg/mask"
)

// lineWriter serialises whole lines from many steps onto one writer, so
// that concurrent items never interleave inside a line.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func newLineWriter(w io.Writer) *lineWriter {
	if w == nil {
		w = io.Discard
	}
	return &lineWriter{w: w}
}

func (l *lineWriter) writeLine(b []byte) {
	l.mu.Lock()
	_, _ = l.w.Write(b)
	l.mu.Unlock()
}

// prefixWriter is one item's log: it buffers a partial line and writes
// each complete line, masked, with the item's prefix to out (unless out is
// nil), and keeps the last lines, masked, in tail. Masking whole lines
// catches a secret that a child wrote in several pieces.
type prefixWriter struct {
	out  *lineWriter
	mask *mask.Masker
	// prefix is made from id and index when the first line is written:
	// most items write none.
	id     string
	index  int
	prefix string
	mu     sync.Mutex
	buf    []byte
	tail   logTail
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			p.buf = append(p.buf, b...)
			break
		}
		p.writeLine(b[:i+1])
		p.buf = p.buf[:0]
		b = b[i+1:]
	}
	return n, nil
}

// Flush writes a trailing partial line.
func (p *prefixWriter) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		p.writeLine([]byte{'\n'})
		p.buf = p.buf[:0]
	}
}

// writeLine writes p.buf followed by rest, which ends with a newline.
func (p *prefixWriter) writeLine(rest []byte) {
	text := rest
	if len(p.buf) > 0 {
		p.buf = append(p.buf, rest...)
		text = p.buf
	}
	text = p.mask.Bytes(text)
	if p.out != nil {
		if p.prefix == "" {
			p.prefix = logPrefix(p.id, p.index)
		}
		line := make([]byte, 0, len(p.prefix)+len(text))
		line = append(append(line, p.prefix...), text...)
		p.out.writeLine(line)
	}
	p.tail.add(text)
}

// takeTail returns the last lines written, then releases the buffer.
func (p *prefixWriter) takeTail(keep bool) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var s string
	if keep {
		s = p.tail.String()
	}
	p.tail.release()
	return s
}
