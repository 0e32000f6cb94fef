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
//
// A line longer than maxLogLine is written in pieces, so that a child
// that never writes a newline cannot make flowrun hold its output; each
// piece is cut after masking (mask.Masker.Split), the start of a secret
// or a URL the cut would split is kept for the next piece, so that a
// secret across the cut is masked whole all the same.
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

// maxLogLine is the longest line written to the log in one piece.
// minLogRoom is what the buffer takes in at least before it is cut again,
// should the text kept for the next piece fill it (a secret longer than a
// line): the buffer never holds much more than a line and a secret.
const (
	maxLogLine = 64 << 10
	minLogRoom = 4 << 10
)

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		chunk := b[:min(len(b), max(maxLogLine-len(p.buf), minLogRoom))]
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			p.writeLine(chunk[:i+1])
			p.buf = p.buf[:0]
			b = b[i+1:]
			continue
		}
		p.buf = append(p.buf, chunk...)
		b = b[len(chunk):]
		if len(p.buf) >= maxLogLine {
			done, keep := p.mask.Split(p.buf)
			p.emit(append([]byte(done), '\n'))
			p.buf = append(p.buf[:0], keep...)
		}
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

// writeLine writes p.buf followed by rest, which ends with a newline,
// masked.
func (p *prefixWriter) writeLine(rest []byte) {
	text := rest
	if len(p.buf) > 0 {
		p.buf = append(p.buf, rest...)
		text = p.buf
	}
	p.emit(p.mask.Bytes(text))
}

// emit writes a masked line, which ends with a newline, with the prefix,
// and keeps it in the tail.
func (p *prefixWriter) emit(text []byte) {
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
