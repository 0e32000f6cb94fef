//go:build unix

package shell

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"syscall"
	"unicode"

	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/steps"
)

// maxTail is the most of the last stderr line that an ExitError keeps.
const maxTail = 200

// ExitError reports a command that ran but did not succeed. Its message is
// "exit status N" or "killed by signal NAME", followed by ": " and the last
// non-empty line of stderr when there was one.
type ExitError struct {
	// Code is the exit status, or -1 when a signal ended the process.
	Code int
	// Signal is the signal that ended the process, or 0 when it exited.
	Signal syscall.Signal
	// StderrTail is the last non-empty line the command wrote to stderr,
	// trimmed, masked (steps.Input.Mask) and only then cut to at most 200
	// bytes; empty when it wrote none.
	StderrTail string
}

func newExitError(ps *os.ProcessState, tail string) *ExitError {
	e := &ExitError{Code: ps.ExitCode(), StderrTail: tail}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e.Signal = ws.Signal()
	}
	return e
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("exit status %d", e.Code)
	if e.Signal != 0 {
		msg = "killed by signal " + signalName(e.Signal)
	}
	if e.StderrTail != "" {
		msg += ": " + e.StderrTail
	}
	return msg
}

// signalNames are the short names people know signals by; syscall's own
// strings ("terminated") are descriptions.
var signalNames = map[syscall.Signal]string{
	syscall.SIGABRT: "ABRT", syscall.SIGALRM: "ALRM", syscall.SIGBUS: "BUS",
	syscall.SIGFPE: "FPE", syscall.SIGHUP: "HUP", syscall.SIGILL: "ILL",
	syscall.SIGINT: "INT", syscall.SIGKILL: "KILL", syscall.SIGPIPE: "PIPE",
	syscall.SIGQUIT: "QUIT", syscall.SIGSEGV: "SEGV", syscall.SIGSYS: "SYS",
	syscall.SIGTERM: "TERM", syscall.SIGTRAP: "TRAP", syscall.SIGUSR1: "USR1",
	syscall.SIGUSR2: "USR2", syscall.SIGXCPU: "XCPU", syscall.SIGXFSZ: "XFSZ",
}

func signalName(sig syscall.Signal) string {
	if name, ok := signalNames[sig]; ok {
		return name
	}
	return fmt.Sprintf("%d", int(sig))
}

// capture keeps a command's stdout, up to limit bytes.
type capture struct {
	limit    int
	chunks   [][]byte // full, but for the last
	n        int      // bytes in chunks
	exceeded bool
}

// Chunks grow from minChunk to maxChunk: little output costs little, and
// a large one is read into chunks of maxChunk that are never copied while
// it is read (a buffer that doubles would hold its old and new arrays at
// once, and leave the old ones to the garbage collector).
const (
	minChunk = 512
	maxChunk = 1 << 20
)

// readFrom reads r to its end. Past the limit it closes r, so that the
// command's next write fails (SIGPIPE) instead of blocking on a pipe
// nobody reads.
func (c *capture) readFrom(r *pipe) {
	for size := minChunk; ; size = min(2*size, maxChunk) {
		// One byte past the limit tells a command at the limit from
		// one beyond it.
		chunk := make([]byte, 0, min(size, c.limit+1-c.n))
		for len(chunk) < cap(chunk) {
			n, err := r.Read(chunk[len(chunk):cap(chunk)])
			chunk = chunk[:len(chunk)+n]
			if err != nil {
				c.add(chunk)
				return
			}
		}
		c.add(chunk)
		if c.n > c.limit {
			c.exceeded = true
			r.Close()
			return
		}
	}
}

func (c *capture) add(chunk []byte) {
	if len(chunk) > 0 {
		c.chunks = append(c.chunks, chunk)
		c.n += len(chunk)
	}
}

// text returns the captured stdout, in the pieces it was read in, and
// lets go of them: flowrun parses it (output: json, lines) without joining
// them, and joins them once for a text output.
func (c *capture) text() steps.Text {
	chunks := c.chunks
	c.chunks = nil
	if c.exceeded {
		return steps.Text{}
	}
	return steps.NewText(chunks)
}

// stderrLog copies a command's stderr to w a line at a time and
// remembers the start of the last non-empty line, for the ExitError.
type stderrLog struct {
	w    io.Writer
	mask *mask.Masker
	// line is the start of the current line (at most tailKeep bytes),
	// long whether the line is longer; last and lastLong are the same for
	// the last complete non-empty line.
	line, last     []byte
	long, lastLong bool
}

// readSize is how much of stderr is read at once. tailKeep is how much of
// a line's start is kept for the tail: more than maxTail, so that the
// tail is masked before it is cut (a secret that straddles byte 200 is
// masked whole); a secret longer still is dropped from the tail rather
// than shown in part (mask.Masker.Head).
const (
	readSize = 64 << 10
	tailKeep = 4 << 10
)

func (s *stderrLog) readFrom(r *pipe) {
	br := bufio.NewReaderSize(r, readSize)
	for {
		chunk, err := br.ReadSlice('\n')
		end := err != nil && err != bufio.ErrBufferFull
		if len(chunk) > 0 {
			if end && chunk[len(chunk)-1] != '\n' {
				chunk = append(slices.Clip(chunk), '\n') // the last line, ended
			}
			// A line at a time; a line longer than readSize goes in
			// pieces, which the log writer joins and masks as one line.
			s.w.Write(chunk)
			s.track(chunk)
		}
		if end {
			s.endLine()
			return
		}
	}
}

// track follows the lines of b for the tail.
func (s *stderrLog) track(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		part := b
		if i >= 0 {
			part = b[:i]
		}
		room := tailKeep - len(s.line)
		s.line = append(s.line, part[:min(len(part), room)]...)
		s.long = s.long || len(part) > room
		if i < 0 {
			return
		}
		s.endLine()
		b = b[i+1:]
	}
}

// endLine ends the current line: it becomes the last one unless its start
// is blank.
func (s *stderrLog) endLine() {
	if len(bytes.TrimSpace(s.line)) > 0 {
		s.last, s.line = s.line, s.last[:0]
		s.lastLong = s.long
	}
	s.line, s.long = s.line[:0], false
}

// tail is the last non-empty line, trimmed, masked and then cut to
// maxTail bytes.
func (s *stderrLog) tail() string {
	t := bytes.TrimLeftFunc(s.last, unicode.IsSpace)
	if !s.lastLong {
		t = bytes.TrimRightFunc(t, unicode.IsSpace)
	}
	return string(bytes.TrimRightFunc([]byte(s.mask.Head(t, maxTail, s.lastLong)), unicode.IsSpace))
}
