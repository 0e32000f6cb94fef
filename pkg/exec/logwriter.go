package exec

import (
	"bytes"
	"io"
	"sync"
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

// Flush exists for symmetry with prefixWriter; lineWriter holds no data.
func (l *lineWriter) Flush() {}

// prefixWriter is one item's log: it buffers a partial line and writes
// each complete line with the item's prefix.
type prefixWriter struct {
	out    *lineWriter
	prefix string
	mu     sync.Mutex
	buf    []byte
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
		line := make([]byte, 0, len(p.prefix)+len(p.buf)+i+1)
		line = append(append(append(line, p.prefix...), p.buf...), b[:i+1]...)
		p.out.writeLine(line)
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
		p.out.writeLine(append(append([]byte(p.prefix), p.buf...), '\n'))
		p.buf = p.buf[:0]
	}
}
