package http

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Redirects is the step's redirect policy, `follow_redirects:` in a
// workflow. The zero value is RedirectSameOrigin.
type Redirects int

const (
	// RedirectSameOrigin, the default (`same_origin`), follows redirects
	// within the request's origin — scheme, host and port — and fails the
	// step on a redirect to another origin, which is not requested.
	RedirectSameOrigin Redirects = iota
	// RedirectAny (`true`) follows redirects to any origin; once a
	// redirect leaves the request's origin, the step's own headers are
	// no longer sent (all but the few in keptAcrossOrigins), for the rest
	// of the chain.
	RedirectAny
	// RedirectNever (`false`) follows none: a 3xx response is the
	// response checked against expect.
	RedirectNever
)

// maxRedirects is the longest chain of redirects followed, as net/http's
// default.
const maxRedirects = 10

// keptAcrossOrigins are the headers a redirect to another origin still
// carries: they describe the request, not who sends it. Every other header
// a step sets — Authorization, Cookie, X-Api-Key or any custom one — may
// be a credential. net/http alone would drop only Authorization, Cookie
// and WWW-Authenticate, and only when the host changes, not the port.
var keptAcrossOrigins = map[string]bool{
	"Accept": true, "Accept-Encoding": true, "Accept-Language": true,
	"Content-Type": true, "Content-Language": true, "User-Agent": true,
}

// UnmarshalText reads `true`, `false` or `same_origin`.
func (r *Redirects) UnmarshalText(text []byte) error {
	switch strings.TrimSpace(string(text)) {
	case "same_origin":
		*r = RedirectSameOrigin
	case "true":
		*r = RedirectAny
	case "false":
		*r = RedirectNever
	default:
		return fmt.Errorf("%q is not same_origin (the default), true (any origin, without the step's headers once the origin changes) or false", text)
	}
	return nil
}

// MarshalText writes the policy as a workflow spells it.
func (r Redirects) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

func (r Redirects) String() string {
	switch r {
	case RedirectAny:
		return "true"
	case RedirectNever:
		return "false"
	}
	return "same_origin"
}

// Enum lists the values a workflow may write, for the JSON schema.
func (Redirects) Enum() []any { return []any{"same_origin", true, false} }

// errCrossOrigin is wrapped by the error of a redirect that
// RedirectSameOrigin refuses.
var errCrossOrigin = errors.New("redirect to another origin not followed")

// checkRedirect is the http.Client's CheckRedirect for the policy. req is
// the next request, via the requests made so far, oldest first; net/http
// has already copied the first request's headers into req.
func (r Redirects) checkRedirect(req *http.Request, via []*http.Request) error {
	if r == RedirectNever {
		return http.ErrUseLastResponse
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	first := origin(via[0].URL)
	left := origin(req.URL) != first
	for _, v := range via[1:] {
		left = left || origin(v.URL) != first
	}
	if !left {
		return nil
	}
	if r == RedirectSameOrigin {
		return fmt.Errorf("%w: to %s (follow_redirects: same_origin); set follow_redirects: true to follow it without the step's headers, or false to check the 3xx response", errCrossOrigin, req.URL)
	}
	for k := range req.Header {
		if !keptAcrossOrigins[k] {
			delete(req.Header, k)
		}
	}
	return nil
}

// origin is a URL's scheme, host and port, the port made explicit.
func origin(u *url.URL) string {
	scheme, port := strings.ToLower(u.Scheme), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

var _ interface{ Enum() []any } = Redirects(0)
