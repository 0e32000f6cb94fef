package mask

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// Replacement is what a masked value becomes.
const Replacement = "***"

// MinLength is the shortest secret, in characters, that a Masker replaces
// in text. Replacing every "a" or "42" of a log would shred it and, by
// its gaps, tell the secret anyway; such a value is not a credential. A
// shorter secret is still hidden where flowrun knows it is the secret (the
// inputs of the report), and Add reports that it is not masked elsewhere,
// so that the caller can warn.
const MinLength = 4

// A Masker replaces secrets with Replacement in text. It is built empty
// (New) and grows with Add as secrets become known: a workflow called with
// uses: adds its own. It is safe for concurrent use; reading (String,
// Value) takes no lock. A nil *Masker masks no secrets but still redacts
// URLs.
//
// For each secret of at least MinLength characters it masks the value
// itself, each of its lines (a multi-line secret such as a PEM key is
// printed line by line), and the forms programs commonly print it in:
// JSON-escaped (with and without HTML escaping), URL-encoded (query and
// path escaping) and base64 (standard alphabet, at each of the three
// alignments it may have inside a longer encoded text, as
// base64("user:" + secret) has). Masking works on whole strings: a
// stream is masked a line at a time, never across Write calls, and a
// text is cut only after it is masked (Head, Split).
type Masker struct {
	mu      sync.Mutex // serialises Add
	secrets map[string]bool
	state   atomic.Pointer[state]
}

// state is an immutable snapshot of the forms to mask.
type state struct {
	forms  []string // longest first
	bforms [][]byte // forms, and as JSON escapes them, for Contains and HasSecret
	r      *strings.Replacer
}

// New returns a Masker for the given secrets (see Add).
func New(secrets ...string) *Masker {
	m := &Masker{secrets: map[string]bool{}}
	for _, s := range secrets {
		m.Add(s)
	}
	return m
}

// Add masks secret from now on. It reports whether the secret is masked
// in text: false when it is empty or shorter than MinLength characters.
// Adding a secret twice is harmless.
func (m *Masker) Add(secret string) bool {
	if utf8.RuneCountInString(secret) < MinLength {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.secrets[secret] {
		return true
	}
	m.secrets[secret] = true
	set := map[string]bool{}
	if st := m.state.Load(); st != nil {
		for _, f := range st.forms {
			set[f] = true
		}
	}
	for _, f := range forms(secret) {
		if utf8.RuneCountInString(f) >= MinLength {
			set[f] = true
		}
	}
	st := &state{forms: make([]string, 0, len(set))}
	for f := range set {
		st.forms = append(st.forms, f)
	}
	// strings.Replacer prefers the earlier of two patterns that match at
	// the same position: longest first, so that a secret is masked whole
	// and not as its shorter line or prefix.
	slices.SortFunc(st.forms, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	pairs := make([]string, 0, 2*len(st.forms))
	seen := map[string]bool{}
	for _, f := range st.forms {
		pairs = append(pairs, f, Replacement)
		// Contains is asked about JSON text too: a form holding a
		// character that JSON escapes (a quote in a line of the secret,
		// the '&' of its URL escape) is looked for as JSON writes it,
		// with and without the HTML escapes.
		for _, b := range []string{f, jsonEscaped(f, false), jsonEscaped(f, true)} {
			if !seen[b] {
				seen[b] = true
				st.bforms = append(st.bforms, []byte(b))
			}
		}
	}
	st.r = strings.NewReplacer(pairs...)
	m.state.Store(st)
	return true
}

// HasSecret reports whether b holds a secret in any of its forms, or in
// JSON text a string that does (see Contains): not a URL, whose
// credentials String would redact whether or not they are a secret.
func (m *Masker) HasSecret(b []byte) bool {
	if m == nil {
		return false
	}
	st := m.state.Load()
	if st == nil {
		return false
	}
	for _, f := range st.bforms {
		if bytes.Contains(b, f) {
			return true
		}
	}
	return false
}

// Copy returns a Masker of the secrets m masks now, which later Adds to
// m do not change (a nil m: none).
func (m *Masker) Copy() *Masker {
	out := New()
	if m == nil {
		return out
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	maps.Copy(out.secrets, m.secrets)
	if st := m.state.Load(); st != nil {
		out.state.Store(st) // immutable: Add makes a new one
	}
	return out
}

// Empty reports whether the Masker masks no secret (it still redacts URLs).
func (m *Masker) Empty() bool {
	return m == nil || m.state.Load() == nil
}

// String returns s with every secret replaced and the credentials of the
// URLs in it redacted (see URLs).
//
// Secrets are masked first: URL redaction replaces a credential parameter's
// value up to the next '&', which would leave the rest of a secret holding
// '&' unrecognisable.
func (m *Masker) String(s string) string {
	return URLs(m.replaceSecrets(s))
}

// Bytes is String for a byte slice; it returns b itself when nothing
// changes.
func (m *Masker) Bytes(b []byte) []byte {
	if !m.Contains(b) {
		return b
	}
	return []byte(m.String(string(b)))
}

// Contains reports whether b holds anything String would change: a form
// of a secret, or a URL (whose credentials, if any, String redacts) — or
// JSON text that holds a string String would change: a form is also
// looked for as JSON escapes it, so it may say yes where String on b
// itself changes nothing. It is a cheap test before masking a structured
// value, from its JSON or its text.
func (m *Masker) Contains(b []byte) bool {
	return hasURL(b) || m.HasSecret(b)
}
