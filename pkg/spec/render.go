package spec

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/flowrun/flowrun/internal/term"
)

// Format writes diagnostics for people: `file:line:col: error: summary`,
// then the source line with a caret under the column, then the detail.
// sources maps a file name to its contents; a file missing from it is
// rendered without a snippet.
//
// Each file's lines are indexed once, so rendering is linear in the size
// of the file plus the number of diagnostics, however many there are.
func (ds Diagnostics) Format(w io.Writer, sources map[string][]byte) {
	lines := make(map[string]*sourceLines)
	for _, d := range ds {
		fmt.Fprintf(w, "%s: %s: %s\n", term.Escape(d.Pos.String()), d.Severity, term.Escape(d.Summary))
		sl, ok := lines[d.File]
		if !ok {
			sl = newSourceLines(sources[d.File])
			lines[d.File] = sl
		}
		if line, ok := sl.line(d.Line); ok && !d.NoSnippet {
			// Controls and bidi overrides are shown, not obeyed: the line
			// must read as the parser reads it.
			line = strings.ReplaceAll(line, "\t", " ")
			fmt.Fprintf(w, "%5d | %s\n", d.Line, term.Escape(line))
			col := term.EscapedLen(line, max(d.Column, 1)-1) + 1
			fmt.Fprintf(w, "      | %s^\n", strings.Repeat(" ", col-1))
		}
		if d.Detail != "" {
			for _, l := range strings.Split(d.Detail, "\n") {
				fmt.Fprintf(w, "      = %s\n", term.Escape(l))
			}
		}
	}
}

// FormatShort writes one `file:line:col: severity: summary` line per
// diagnostic, for tools that read them (editors, go vet style).
func (ds Diagnostics) FormatShort(w io.Writer) {
	for _, d := range ds {
		fmt.Fprintf(w, "%s: %s: %s", term.Escape(d.Pos.String()), d.Severity, term.Escape(d.Summary))
		if d.Detail != "" {
			fmt.Fprintf(w, " (%s)", term.Escape(strings.ReplaceAll(d.Detail, "\n", "; ")))
		}
		fmt.Fprintln(w)
	}
}

// sourceLines indexes where each line of a file starts.
type sourceLines struct {
	src    []byte
	starts []int
}

func newSourceLines(src []byte) *sourceLines {
	sl := &sourceLines{src: src}
	if len(src) == 0 {
		return sl
	}
	sl.starts = append(sl.starts, 0)
	for i, b := range src {
		if b == '\n' && i+1 < len(src) {
			sl.starts = append(sl.starts, i+1)
		}
	}
	return sl
}

// line returns line n (from 1) without its line break, or false when the
// file has no such line or the line is not fit to print (not UTF-8, or
// longer than 500 bytes).
func (sl *sourceLines) line(n int) (string, bool) {
	if n <= 0 || n > len(sl.starts) {
		return "", false
	}
	src := sl.src[sl.starts[n-1]:]
	if j := bytes.IndexByte(src, '\n'); j >= 0 {
		src = src[:j]
	}
	if len(src) > 500+1 {
		return "", false
	}
	line := strings.TrimRight(string(src), "\r")
	if !utf8.ValidString(line) || len(line) > 500 {
		return "", false
	}
	return line, true
}

// sourceLine returns line n of src; for one line at a time (render many
// through sourceLines).
func sourceLine(src []byte, n int) (string, bool) {
	return newSourceLines(src).line(n)
}
