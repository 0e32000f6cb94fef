package spec

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// valuePos maps a byte offset inside a scalar's value to its line and
// column in the file, so that a diagnostic inside an expression points at
// the offending name even when YAML changed the text on the way: quotes
// and escapes (`\"`, `”`), and lines folded into one (plain, quoted and
// `>` scalars). Literal block scalars (`|`) keep their lines and only lose
// their indentation.
func valuePos(n *yaml.Node, byteOff int, src *lineIndex) (int, int) {
	byteOff = min(byteOff, len(n.Value))
	if n.Style&yaml.LiteralStyle == 0 {
		if line, col, ok := alignScalar(n, byteOff, src); ok {
			return line, col
		}
	}
	before := n.Value[:byteOff]
	lineIdx := strings.Count(before, "\n")
	lastNL := strings.LastIndexByte(before, '\n')
	colRunes := utf8.RuneCountInString(before[lastNL+1:])
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		line := n.Line + 1 + lineIdx
		return line, indentOf(src, line) + colRunes + 1
	case lineIdx > 0:
		return n.Line + lineIdx, indentOf(src, n.Line+lineIdx) + colRunes + 1
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		return n.Line, n.Column + 1 + colRunes
	}
	return n.Line, n.Column + colRunes
}

// alignScalar walks the scalar's source text and its decoded value side by
// side up to byteOff. It reports false when the two cannot be matched
// (a scalar that is not where the node says), and the caller falls back
// to counting in the value.
func alignScalar(n *yaml.Node, byteOff int, text *lineIndex) (line, col int, ok bool) {
	start, ok := offsetOf(text, n.Line, n.Column)
	if !ok {
		return 0, 0, false
	}
	src := text.src
	dq := n.Style&yaml.DoubleQuotedStyle != 0
	sq := n.Style&yaml.SingleQuotedStyle != 0
	j := start
	switch {
	case dq || sq:
		j++ // the opening quote
	case n.Style&yaml.FoldedStyle != 0:
		nl := bytes.IndexByte(src[j:], '\n')
		if nl < 0 {
			return 0, 0, false
		}
		j += nl + 1
	}
	val := n.Value
	for i := 0; ; {
		if j >= len(src) {
			return 0, 0, false
		}
		c := src[j]
		if i == byteOff {
			switch {
			case dq && c == '\\' && j+1 < len(src) && (src[j+1] == '\n' || src[j+1] == '\r'):
				j += 2 // an escaped line break produces nothing
			case isBlank(c) && (i == len(val) || val[i] != c):
				j++ // indentation, a folded break
			default:
				return lineCol(src, n, start, j)
			}
			continue
		}
		if i > byteOff || i >= len(val) {
			return 0, 0, false // byteOff is inside a rune or an escape
		}
		r, size := utf8.DecodeRuneInString(val[i:])
		switch {
		case dq && c == '\\' && j+1 < len(src):
			switch src[j+1] {
			case '\n', '\r': // an escaped line break joins the lines
				j += 2
				continue
			case 'x':
				j += 4
			case 'u':
				j += 6
			case 'U':
				j += 10
			default:
				j += 2
			}
			i += size
		case sq && c == '\'' && r == '\'' && j+1 < len(src) && src[j+1] == '\'':
			j, i = j+2, i+size
		case j+size <= len(src) && string(src[j:j+size]) == val[i:i+size]:
			j, i = j+size, i+size
		case c == '\n' && (r == ' ' || r == '\n'):
			j, i = j+1, i+size // a folded line break
		case isBlank(c):
			j++ // indentation, a dropped break, trailing blanks
		default:
			return 0, 0, false
		}
	}
}

func isBlank(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// lineIndex is a file's text with the byte offset of each line's start:
// every expression maps its position through it, and scanning the file
// each time would make checking a file quadratic in its size. Each Parse
// builds its own, so that files parsed at once never share one.
type lineIndex struct {
	src    []byte
	starts []int
}

// indexLines indexes src's lines.
func indexLines(src []byte) *lineIndex {
	idx := &lineIndex{src: src, starts: []int{0}}
	for i, b := range src {
		if b == '\n' {
			idx.starts = append(idx.starts, i+1)
		}
	}
	return idx
}

// lineStart returns the byte offset where line (from 1) starts.
func lineStart(idx *lineIndex, line int) (int, bool) {
	if idx == nil || line < 1 || line > len(idx.starts) {
		return 0, false
	}
	return idx.starts[line-1], true
}

// offsetOf returns the byte offset of line:col (columns count runes).
func offsetOf(idx *lineIndex, line, col int) (int, bool) {
	off, ok := lineStart(idx, line)
	if !ok {
		return 0, false
	}
	src := idx.src
	for c := 1; c < col; c++ {
		if off >= len(src) || src[off] == '\n' {
			return 0, false
		}
		_, size := utf8.DecodeRune(src[off:])
		off += size
	}
	return off, true
}

// lineCol turns offset j, at or after the node's start offset, into a
// line and column.
func lineCol(src []byte, n *yaml.Node, start, j int) (int, int, bool) {
	seg := src[start:j]
	breaks := bytes.Count(seg, []byte("\n"))
	if breaks == 0 {
		return n.Line, n.Column + utf8.RuneCount(seg), true
	}
	last := bytes.LastIndexByte(seg, '\n')
	return n.Line + breaks, utf8.RuneCount(seg[last+1:]) + 1, true
}

func indentOf(idx *lineIndex, line int) int {
	off, ok := lineStart(idx, line)
	if !ok {
		return 0
	}
	src := idx.src
	n := 0
	for off+n < len(src) && src[off+n] == ' ' {
		n++
	}
	return n
}
