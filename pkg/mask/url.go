package mask

import (
	"bytes"
	"net/url"
	"strings"
	"unicode"
)

// credentialNames are the query parameter names whose values URLs hides,
// matched case-insensitively, whole or as the last word of a longer name
// (x_api_key, X-Amz-Signature, accessToken).
var credentialNames = []string{
	"token", "access_token", "api_key", "apikey", "key", "secret", "password",
	"passwd", "pwd", "signature", "sig", "auth", "credential",
}

// IsCredentialName reports whether a query parameter named name holds a
// credential: one of token, access_token, api_key, apikey, key, secret,
// password, passwd, pwd, signature, sig, auth or credential, in any case,
// alone or as the last word of the name, after '_', '-' or '.' or as a
// capitalised word (x_api_key, X-Amz-Signature, accessToken), but not as
// the tail of a word ("monkey").
func IsCredentialName(name string) bool {
	if n, err := url.QueryUnescape(name); err == nil {
		name = n
	}
	lower := strings.ToLower(name)
	for _, c := range credentialNames {
		if lower == c {
			return true
		}
		if !strings.HasSuffix(lower, c) {
			continue
		}
		i := len(name) - len(c) // where the word starts
		if i <= 0 || len(lower) != len(name) {
			continue
		}
		switch prev, first := name[i-1], rune(name[i]); {
		case prev == '_' || prev == '-' || prev == '.':
			return true
		case unicode.IsUpper(first) && !unicode.IsUpper(rune(prev)):
			return true
		}
	}
	return false
}

// URL returns u as text with its credentials redacted: the password of
// its userinfo and the values of credential parameters (IsCredentialName)
// in its query and fragment become Replacement. Unlike url.URL.Redacted,
// it keeps the rest of the text as it was.
func URL(u *url.URL) string {
	if u == nil {
		return ""
	}
	return redactURL(u.String())
}

// URLs returns s with the credentials of every URL in it redacted, as URL
// does. A URL is a scheme, "://", and what follows up to a space, a quote
// or an angle bracket.
func URLs(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	var b strings.Builder
	for i >= 0 {
		start := i
		for start > 0 && isSchemeChar(s[start-1]) {
			start--
		}
		end := i + 3
		for end < len(s) && !isURLEnd(s[end]) {
			end++
		}
		if start == i { // no scheme: not a URL
			b.WriteString(s[:end])
		} else {
			b.WriteString(s[:start])
			b.WriteString(redactURL(s[start:end]))
		}
		s = s[end:]
		i = strings.Index(s, "://")
	}
	if b.Len() == 0 {
		return s
	}
	b.WriteString(s)
	return b.String()
}

// hasURL is a quick test for "://". It looks for the slashes: the JSON
// it is asked about for every item has a colon after each key, and
// bytes.Contains would stop at each one.
func hasURL(b []byte) bool {
	for i := 1; i+1 < len(b); {
		j := bytes.IndexByte(b[i:], '/')
		if j < 0 {
			return false
		}
		i += j
		if i+1 < len(b) && b[i+1] == '/' && b[i-1] == ':' {
			return true
		}
		i++
	}
	return false
}

func isSchemeChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

func isURLEnd(c byte) bool {
	return c <= ' ' || c == 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == '\\'
}

// redactURL redacts one URL's text: scheme://[user[:password]@]host...
func redactURL(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	head, rest := s[:i+3], s[i+3:]
	authEnd := strings.IndexAny(rest, "/?#")
	if authEnd < 0 {
		authEnd = len(rest)
	}
	auth, tail := rest[:authEnd], rest[authEnd:]
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		if colon := strings.IndexByte(auth[:at], ':'); colon >= 0 {
			auth = auth[:colon+1] + Replacement + auth[at:]
		}
	}
	var frag string
	if h := strings.IndexByte(tail, '#'); h >= 0 {
		tail, frag = tail[:h], tail[h:]
	}
	if q := strings.IndexByte(tail, '?'); q >= 0 {
		tail = tail[:q+1] + redactParams(tail[q+1:])
	}
	if frag != "" {
		frag = "#" + redactParams(frag[1:])
	}
	return head + auth + tail + frag
}

// redactParams hides the values of credential parameters in a
// name=value&name=value list.
func redactParams(q string) string {
	if !strings.Contains(q, "=") {
		return q
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		name, value, ok := strings.Cut(p, "=")
		if ok && value != "" && value != Replacement && IsCredentialName(name) {
			parts[i] = name + "=" + Replacement
		}
	}
	return strings.Join(parts, "&")
}
