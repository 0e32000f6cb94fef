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
	"unicode/utf8"
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
	// trimmed and cut to at most 200 bytes; empty when it wrote none.
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
	buf      []byte
	exceeded bool
}

// readFrom reads r to its end. Past the limit it closes r, so that the
// command's next write fails (SIGPIPE) instead of blocking on a pipe
// nobody reads. The buffer grows by doubling but never far past the
// limit: a command at the limit costs limit bytes, not twice as many.
func (c *capture) readFrom(r *pipe) {
	c.buf = make([]byte, 0, min(512, c.limit+1))
	for {
		if len(c.buf) == cap(c.buf) {
			c.buf = slices.Grow(c.buf, min(len(c.buf), c.limit+1-len(c.buf)))
		}
		n, err := r.Read(c.buf[len(c.buf):cap(c.buf)])
		c.buf = c.buf[:len(c.buf)+n]
		if len(c.buf) > c.limit {
			c.exceeded = true
			c.buf = c.buf[:c.limit]
			r.Close()
			return
		}
		if err != nil {
			return
		}
	}
}

// stderrLog copies a command's stderr to w a line at a time and remembers
// the last non-empty line.
type stderrLog struct {
	w    io.Writer
	tail string
}

// maxLine is the longest stderr line written to the log in one piece; a
// longer one is split.
const maxLine = 64 << 10

func (s *stderrLog) readFrom(r *pipe) {
	br := bufio.NewReaderSize(r, maxLine)
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 {
			line = append(line[:0], chunk...)
			if line[len(line)-1] != '\n' {
				line = append(line, '\n')
			}
			s.w.Write(line)
			if t := bytes.TrimSpace(line); len(t) > 0 {
				s.tail = truncate(t, maxTail)
			}
		}
		if err != nil && err != bufio.ErrBufferFull {
			return
		}
	}
}

// truncate returns b cut to at most n bytes, without splitting the
// character that straddles the cut.
func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	i := n
	for i > 0 && i > n-utf8.UTFMax && !utf8.RuneStart(b[i]) {
		i--
	}
	return string(b[:i])
}
