// Package term makes text safe to show on a terminal: what a child process
// prints, or a line of a workflow file, must not move the cursor, change
// colours, set the window title or reorder the text the operator reads.
package term

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Escape returns s with every character that acts on a terminal or on how
// text is ordered written out visibly as <U+XXXX>: C0 controls but tab and
// newline (a carriage return only when a newline follows it), DEL, C1
// controls, and the bidirectional controls (U+061C, U+200E, U+200F,
// U+202A–U+202E, U+2066–U+2069) that can make a line read differently from
// what it is. Bytes that are not UTF-8 become <0xNN>. Text without any of
// them is returned as is, without allocating.
func Escape(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, "<0x%02X>", s[i])
		case unsafeRune(r, s[i+size:]):
			fmt.Fprintf(&b, "<U+%04X>", r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// EscapedLen returns the number of characters Escape turns the first n
// characters of s into, so that a caret under column n+1 of s can be put
// under the same character of Escape(s).
func EscapedLen(s string, n int) int {
	width := 0
	for i, r := range s {
		if n == 0 {
			break
		}
		n--
		switch _, size := utf8.DecodeRuneInString(s[i:]); {
		case r == utf8.RuneError && size == 1:
			width += len("<0xNN>")
		case unsafeRune(r, s[i+size:]):
			width += utf8.RuneCountInString(fmt.Sprintf("<U+%04X>", r))
		default:
			width++
		}
	}
	return width
}

// firstUnsafe returns the index of the first byte Escape changes, or -1.
func firstUnsafe(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
		if unsafeRune(r, s[i+utf8.RuneLen(max(r, 0)):]) {
			return i
		}
	}
	return -1
}

// unsafeRune reports whether r, followed by rest, must be escaped.
func unsafeRune(r rune, rest string) bool {
	switch {
	case r == '\t', r == '\n':
		return false
	case r == '\r':
		return !strings.HasPrefix(rest, "\n")
	case r < 0x20, r == 0x7f, 0x80 <= r && r < 0xa0:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f,
		0x202a <= r && r <= 0x202e, 0x2066 <= r && r <= 0x2069:
		return true
	}
	return false
}

// Writer escapes what it writes to its underlying writer, as Escape does.
// A character cut between two writes, or a carriage return that ends one
// (whether a newline follows decides its fate), is held until the next
// write completes it; Flush writes what is held. Write whole lines and
// nothing is ever held.
type Writer struct {
	w    io.Writer
	held []byte
}

// NewWriter returns a Writer that escapes what it writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write escapes p, with what an earlier write left held, and writes it.
func (e *Writer) Write(p []byte) (int, error) {
	b := p
	if len(e.held) > 0 {
		b = append(e.held, p...)
		e.held = nil
	}
	keep := incomplete(b)
	if keep > 0 {
		e.held = append([]byte(nil), b[len(b)-keep:]...)
		b = b[:len(b)-keep]
	}
	if err := e.write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes what is held, escaped as it is.
func (e *Writer) Flush() error {
	b := e.held
	e.held = nil
	return e.write(b)
}

func (e *Writer) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	s := string(b)
	if t := Escape(s); t != s {
		_, err := io.WriteString(e.w, t)
		return err
	}
	_, err := e.w.Write(b)
	return err
}

// incomplete returns how many bytes at the end of b the next write may
// change the meaning of: the start of a UTF-8 character cut short, or a
// final carriage return.
func incomplete(b []byte) int {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return 1
	}
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return len(b) - i
			}
			break
		}
	}
	return 0
}
