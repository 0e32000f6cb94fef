package term

import (
	"bytes"
	"testing"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text, tabs\tand newlines\n", "plain text, tabs\tand newlines\n"},
		{"\x1b[31mred\x1b[0m", "<U+001B>[31mred<U+001B>[0m"},
		{"\x1b]0;title\x07", "<U+001B>]0;title<U+0007>"},
		{"over\rwrite", "over<U+000D>write"},
		{"crlf\r\n", "crlf\r\n"},
		{"del\x7f c1\u009b", "del<U+007F> c1<U+009B>"},
		{"if admin \u202e} \u2066x\u2069 \u200f", "if admin <U+202E>} <U+2066>x<U+2069> <U+200F>"},
		{"bad \xff utf8", "bad <0xFF> utf8"},
		{"café ✓", "café ✓"},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapedLen(t *testing.T) {
	s := "a\u202eb\x1bc"
	for n, want := range []int{0, 1, 9, 10, 18, 19} {
		if got := EscapedLen(s, n); got != want {
			t.Errorf("EscapedLen(%q, %d) = %d; want %d", s, n, got, want)
		}
	}
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	n, err := NewWriter(&b).Write([]byte("x\x1b[2Jy\n"))
	if n != 7 || err != nil || b.String() != "x<U+001B>[2Jy\n" {
		t.Errorf("Write = %d, %v, wrote %q", n, err, b.String())
	}
}

// TestWriterAcrossWrites: a character cut between two writes, and a
// carriage return whose newline comes in the next write, are judged
// whole, as in one write.
func TestWriterAcrossWrites(t *testing.T) {
	text := "a\u202eb é\r\nc\rd\x1b[31m€\U0001F600\xff"
	want := Escape(text)
	for cut := 1; cut <= 3; cut++ {
		var b bytes.Buffer
		w := NewWriter(&b)
		for s := []byte(text); len(s) > 0; {
			n := min(cut, len(s))
			if _, err := w.Write(s[:n]); err != nil {
				t.Fatal(err)
			}
			s = s[n:]
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("writes of %d bytes: got %q; want %q", cut, b.String(), want)
		}
	}
	var b bytes.Buffer
	w := NewWriter(&b)
	w.Write([]byte("x\r"))
	w.Flush()
	if b.String() != "x<U+000D>" {
		t.Errorf("a final carriage return: got %q", b.String())
	}
}
