package mask

import (
	"strings"
	"unicode/utf8"
)

// maxURLCarry bounds the text of a URL cut off at the end of a piece that
// Split keeps for the next piece, so that the URL is redacted whole.
const maxURLCarry = 4 << 10

// Head returns the start of b, masked and then cut to at most n bytes
// without splitting a character. When more is true, b is itself only the
// start of a longer text (a prefix read from a stream, a body): the end
// of b may cut a secret or a URL in two, so a tail of b that may begin a
// secret, and a URL that b cuts off, are dropped rather than shown in
// part.
func (m *Masker) Head(b []byte, n int, more bool) string {
	t := m.replaceSecrets(string(b))
	if more {
		t = t[:len(t)-m.pending(t)]
		t = t[:openURL(t)]
	}
	return cutString(URLs(t), n)
}

// Split masks buf, the part of a stream read so far that must be written
// before the rest comes (a line longer than the writer holds). It returns
// the masked text to write now and the text to keep: a tail of buf that
// may begin a secret the stream has yet to complete (at most the longest
// form of a secret, less a byte), or a URL cut off at buf's end (up to 4
// KiB), so that either is masked whole with what follows. The kept text
// goes in front of the next piece; it is already masked as far as it can
// be, and masking it again changes nothing.
func (m *Masker) Split(buf []byte) (done, keep string) {
	t := m.replaceSecrets(string(buf))
	cut := len(t) - m.pending(t)
	// The earlier of an open URL and a word that may begin one, if
	// either is short enough to keep.
	u1, u2 := openURL(t[:cut]), schemeTail(t[:cut])
	for _, u := range []int{min(u1, u2), max(u1, u2)} {
		if cut-u <= maxURLCarry {
			cut = u
			break
		}
	}
	return URLs(t[:cut]), t[cut:]
}

// replaceSecrets returns s with the forms of every secret replaced: String
// without the URL redaction, which must come after.
func (m *Masker) replaceSecrets(s string) string {
	if m != nil {
		if st := m.state.Load(); st != nil {
			return st.r.Replace(s)
		}
	}
	return s
}

// pending returns the length of the longest tail of t that is the start
// (not the whole) of a form of a secret: what a stream may yet complete.
func (m *Masker) pending(t string) int {
	if m == nil {
		return 0
	}
	st := m.state.Load()
	if st == nil {
		return 0
	}
	longest := 0
	for _, f := range st.forms {
		// Tails of t no longer than the form, longest first.
		from := max(0, len(t)-len(f)+1)
		for i := from; i < len(t) && len(t)-i > longest; i++ {
			if t[i] == f[0] && strings.HasPrefix(f, t[i:]) {
				longest = len(t) - i
				break
			}
		}
	}
	return longest
}

// openURL returns where a URL that runs to the end of t starts (its
// scheme), or len(t) when t does not end inside a URL.
func openURL(t string) int {
	i := strings.LastIndex(t, "://")
	if i < 0 {
		return len(t)
	}
	for j := i + 3; j < len(t); j++ {
		if isURLEnd(t[j]) {
			return len(t)
		}
	}
	start := i
	for start > 0 && isSchemeChar(t[start-1]) {
		start--
	}
	if start == i {
		return len(t) // no scheme: not a URL
	}
	return start
}

// schemeTail returns where a tail of t that may begin a URL starts — a
// word that may be a scheme, then perhaps ":" or ":/" — or len(t): the
// rest of the stream may make it a URL whose credentials must be redacted.
func schemeTail(t string) int {
	end := len(t)
	switch {
	case strings.HasSuffix(t, ":/"):
		end -= 2
	case strings.HasSuffix(t, ":"):
		end--
	}
	start := end
	for start > 0 && isSchemeChar(t[start-1]) {
		start--
	}
	if start == end && end != len(t) {
		return len(t) // ":" or ":/" after no scheme
	}
	return start
}

// cutString cuts s to at most n bytes without splitting a character.
func cutString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
