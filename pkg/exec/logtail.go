package exec

import (
	"bytes"
	"sync"
)

// A failed item's last log lines are kept so that a person sees why it
// failed even when the items' logs are not streamed (a 10,000-item block
// would flood the terminal). The buffer is bounded, allocated only when
// an item writes to its log, and recycled through a pool: items that
// succeed quietly allocate nothing for it.
const (
	tailLines = 10   // lines kept in ItemResult.LogTail
	tailBytes = 2048 // bytes kept in ItemResult.LogTail
)

var tailPool = sync.Pool{New: func() any { b := make([]byte, 0, 2*tailBytes); return &b }}

// logTail holds the last bytes an item wrote to its log.
type logTail struct{ buf *[]byte }

// add appends a line (with its newline), keeping at most the last
// tailBytes bytes once the buffer is full.
func (t *logTail) add(line []byte) {
	if t.buf == nil {
		t.buf = tailPool.Get().(*[]byte)
	}
	b := *t.buf
	if len(line) > tailBytes {
		line = line[len(line)-tailBytes:]
	}
	if len(b)+len(line) > cap(b) {
		keep := b[len(b)-min(len(b), tailBytes-len(line)):]
		b = append(b[:0], keep...)
	}
	*t.buf = append(b, line...)
}

// String returns the last tailLines lines, without a final newline.
func (t *logTail) String() string {
	if t.buf == nil {
		return ""
	}
	b := bytes.TrimRight(*t.buf, "\n")
	if len(b) > tailBytes {
		b = b[len(b)-tailBytes:]
		// Drop the cut line's head.
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	for n, i := 0, len(b); i > 0; i-- {
		if b[i-1] == '\n' {
			if n++; n == tailLines {
				b = b[i:]
				break
			}
		}
	}
	return string(bytes.ToValidUTF8(b, []byte("\uFFFD")))
}

// release returns the buffer to the pool.
func (t *logTail) release() {
	if t.buf != nil {
		*t.buf = (*t.buf)[:0]
		tailPool.Put(t.buf)
		t.buf = nil
	}
}
