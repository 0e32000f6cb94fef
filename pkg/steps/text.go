package steps

import (
	"bytes"
	"io"
	"strings"
	"unsafe"
)

// Text is text held in pieces, as a step that reads a stream collects it
// (the shell step's stdout). A Run that returns a Text lets flowrun read
// the output — as text, JSON or lines — without first joining the pieces
// into one string: for a 64 MiB output, joining would need 64 MiB more.
// The pieces belong to the Text once made and are never modified.
type Text struct {
	pieces [][]byte
	n      int
}

// NewText returns the text made of pieces, which the caller must not use
// afterwards.
func NewText(pieces [][]byte) Text {
	t := Text{}
	for _, p := range pieces {
		if len(p) > 0 {
			t.pieces = append(t.pieces, p)
			t.n += len(p)
		}
	}
	return t
}

// Len is the length of the text in bytes.
func (t Text) Len() int { return t.n }

// Reader reads the text.
func (t Text) Reader() io.Reader {
	rs := make([]io.Reader, len(t.pieces))
	for i, p := range t.pieces {
		rs[i] = bytes.NewReader(p)
	}
	return io.MultiReader(rs...)
}

// String returns the text as one string: a text of one piece without a
// copy, a longer one joined.
func (t Text) String() string {
	switch len(t.pieces) {
	case 0:
		return ""
	case 1:
		return pieceString(t.pieces[0])
	}
	var b strings.Builder
	b.Grow(t.n)
	for _, p := range t.pieces {
		b.Write(p)
	}
	return b.String()
}

// Lines splits the text into lines as output: lines reads it: newlines
// and carriage returns at the end are dropped, then each line loses a
// trailing "\r". A line within one piece is a substring of it, not a
// copy; only a line that spans pieces is joined. Each line is passed to
// yield, which returns false to stop.
func (t Text) Lines(yield func(string) bool) {
	end := t.trimmedLen()
	var carry []byte
	for _, p := range t.pieces {
		if end <= 0 {
			break
		}
		p = p[:min(len(p), end)]
		end -= len(p)
		for len(p) > 0 {
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				carry = append(carry, p...)
				break
			}
			var line string
			if carry != nil {
				line, carry = string(append(carry, p[:i]...)), nil
			} else {
				line = pieceString(p[:i])
			}
			if !yield(strings.TrimSuffix(line, "\r")) {
				return
			}
			p = p[i+1:]
		}
	}
	if carry != nil {
		yield(strings.TrimSuffix(string(carry), "\r"))
	}
}

// LineCount is the number of lines Lines yields.
func (t Text) LineCount() int {
	end := t.trimmedLen()
	if end == 0 {
		return 0
	}
	n := 1
	for _, p := range t.pieces {
		p = p[:min(len(p), end)]
		n += bytes.Count(p, []byte{'\n'})
		if end -= len(p); end <= 0 {
			break
		}
	}
	return n
}

// trimmedLen is the length of the text without the newlines and carriage
// returns at its end.
func (t Text) trimmedLen() int {
	end := t.n
	for i := len(t.pieces) - 1; i >= 0; i-- {
		p := t.pieces[i]
		k := len(bytes.TrimRight(p, "\r\n"))
		end -= len(p) - k
		if k > 0 {
			break
		}
	}
	return end
}

// pieceString is a piece as a string, without a copy: pieces are never
// modified.
func pieceString(p []byte) string {
	if len(p) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(p), len(p))
}
