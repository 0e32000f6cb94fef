package spec

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Format writes diagnostics for people: `file:line:col: error: summary`,
// then the source line with a caret under the column, then the detail.
// sources maps a file name to its contents; a file missing from it is
// rendered without a snippet.
func (ds Diagnostics) Format(w io.Writer, sources map[string][]byte) {
	for _, d := range ds {
		fmt.Fprintf(w, "%s: %s: %s\n", d.Pos, d.Severity, d.Summary)
		if line, ok := sourceLine(sources[d.File], d.Line); ok {
			text := strings.ReplaceAll(line, "\t", " ")
			fmt.Fprintf(w, "%5d | %s\n", d.Line, text)
			col := max(d.Column, 1)
			fmt.Fprintf(w, "      | %s^\n", strings.Repeat(" ", col-1))
		}
		if d.Detail != "" {
			for _, l := range strings.Split(d.Detail, "\n") {
				fmt.Fprintf(w, "      = %s\n", l)
			}
		}
	}
}

// FormatShort writes one `file:line:col: severity: summary` line per
// diagnostic, for tools that read them (editors, go vet style).
func (ds Diagnostics) FormatShort(w io.Writer) {
	for _, d := range ds {
		fmt.Fprintf(w, "%s: %s: %s", d.Pos, d.Severity, d.Summary)
		if d.Detail != "" {
			fmt.Fprintf(w, " (%s)", strings.ReplaceAll(d.Detail, "\n", "; "))
		}
		fmt.Fprintln(w)
	}
}

func sourceLine(src []byte, n int) (string, bool) {
	if n <= 0 || len(src) == 0 {
		return "", false
	}
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(src, '\n')
		if j < 0 {
			return "", false
		}
		src = src[j+1:]
	}
	if j := bytes.IndexByte(src, '\n'); j >= 0 {
		src = src[:j]
	}
	line := strings.TrimRight(string(src), "\r")
	if !utf8.ValidString(line) || len(line) > 500 {
		return "", false
	}
	return line, true
}
