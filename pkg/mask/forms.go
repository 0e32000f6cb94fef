package mask

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
)

// forms returns the secret and the forms derived from it that a Masker
// replaces too. Forms shorter than MinLength are dropped by the caller.
func forms(secret string) []string {
	out := []string{secret}
	// Each line of a multi-line secret: programs print them one by one,
	// and a stream is masked a line at a time.
	if strings.ContainsAny(secret, "\r\n") {
		for _, l := range strings.FieldsFunc(secret, func(r rune) bool { return r == '\n' || r == '\r' }) {
			// A line is printed inside JSON too (a program that logs
			// its config as JSON): its quotes then escaped.
			out = append(out, l, jsonEscaped(l, true), jsonEscaped(l, false))
		}
	}
	out = append(out, jsonEscaped(secret, true), jsonEscaped(secret, false))
	out = append(out, url.QueryEscape(secret), url.PathEscape(secret))
	for shift := range 3 {
		if f := base64Aligned(secret, shift); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// jsonEscaped is the secret as it appears inside a JSON string.
func jsonEscaped(s string, html bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(strings.TrimSuffix(b.String(), "\n"), `"`)[1:]
}

// base64Aligned is the part of base64(prefix + secret + suffix) that
// depends on the secret alone, for a prefix of shift bytes (mod 3): the
// characters that mix the secret's bits with the prefix's or the suffix's
// are left out.
func base64Aligned(secret string, shift int) string {
	buf := make([]byte, shift, shift+len(secret))
	buf = append(buf, secret...)
	enc := base64.RawStdEncoding.EncodeToString(buf)
	bits := 8 * len(buf)
	end := bits / 6 // characters whose six bits are all known
	start := [3]int{0, 2, 3}[shift]
	if end <= start {
		return ""
	}
	return enc[start:end]
}
