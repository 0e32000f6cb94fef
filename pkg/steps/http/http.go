package http

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flowrun/flowrun/pkg/steps"
)

func init() {
	steps.Register(steps.Info{
		Type:      "http",
		Doc:       "Send an HTTP request and check the response's status and body.",
		New:       func() steps.Step { return new(HTTP) },
		Shorthand: "url",
	})
}

const (
	// DefaultTimeout bounds one request, body included, when the step sets
	// no timeout.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxBody is the largest response body read when the step sets
	// no max_body.
	DefaultMaxBody ByteSize = 10 << 20
)

// methods are the request methods a workflow may use. CONNECT is left out:
// it opens a tunnel, which a step has no use for.
var methods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions, http.MethodTrace,
}

// HTTP is the configuration of an `http` step, decoded from the workflow.
// Run does not modify it, so items may share one value.
type HTTP struct {
	// Method is the request method, GET by default; case does not matter.
	Method string `yaml:"method"`
	// URL is the request URL, with an http or https scheme.
	URL string `yaml:"url"`
	// Headers are added to the request. A value is a string, number or
	// boolean, or a list of them for a repeated header. A Host entry sets
	// the request's host.
	Headers map[string]any `yaml:"headers"`
	// Query parameters are added to those already in URL; values are as
	// for Headers.
	Query map[string]any `yaml:"query"`
	// Body is sent as is. It excludes JSON.
	Body string `yaml:"body"`
	// JSON is encoded as the request body, with Content-Type
	// application/json unless Headers set one. It excludes Body.
	JSON any `yaml:"json"`
	// Timeout bounds each request, from connecting to reading the last
	// byte of the body; zero means DefaultTimeout.
	Timeout steps.Duration `yaml:"timeout"`
	// FollowRedirects is the redirect policy: same_origin (the default)
	// follows up to 10 redirects within the request's origin, true to any
	// origin (the step's headers dropped once it changes), false none.
	FollowRedirects Redirects `yaml:"follow_redirects"`
	// MaxBody is the largest response body accepted; zero means
	// DefaultMaxBody. A larger body is an error.
	MaxBody ByteSize `yaml:"max_body"`
	// Expect is what the response must satisfy for the step to succeed.
	Expect Expect `yaml:"expect"`

	// prepared is the request Validate built, so that Run does not build
	// it again for every item that shares this value. flowrun validates a
	// step before any of its items runs; Run itself never writes it.
	prepared *request
}

// Expect lists the checks a response must pass.
type Expect struct {
	// Status is a code (404), a class ("2xx") or a list of them; nil
	// means "2xx".
	Status any `yaml:"status"`
	// JSON is an expr-lang expression over body, status and headers that
	// must evaluate to true (see ExpressionEnv). Empty means no check.
	// flowrun compiles it when the workflow is loaded; the values of
	// `${{ }}` inside it are variables of the expression, never its code.
	JSON steps.Expression `yaml:"json"`
	// BodyContains is text the response body must contain. Empty means
	// no check.
	BodyContains string `yaml:"body_contains"`
}

// request is an HTTP step's configuration checked and put in the form Run
// needs. It is built anew for each item, so Run never writes to the step.
type request struct {
	method   string
	url      *url.URL
	urlText  string // url.String(), made once
	header   http.Header
	host     string
	body     []byte
	timeout  time.Duration
	follow   Redirects
	maxBody  int64
	status   statusSet
	check    steps.Expression
	contains string
	// cached is the client of the run the last item ran in.
	cached atomic.Pointer[runClient]
	// lastHeaders is the headers output of the last response (headers).
	lastHeaders atomic.Pointer[headerSet]
}

// Validate checks the configuration: a parseable http(s) URL, a known
// method, at most one of body and json, well-formed headers and query
// values, and expectations that parse and compile. It reports every problem
// it finds, not just the first.
func (h *HTTP) Validate() error {
	r, err := h.prepare()
	h.prepared = r
	return err
}

func (h *HTTP) prepare() (*request, error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	r := &request{
		method:   strings.ToUpper(h.Method),
		header:   make(http.Header),
		timeout:  h.Timeout,
		follow:   h.FollowRedirects,
		maxBody:  int64(h.MaxBody),
		contains: h.Expect.BodyContains,
	}
	if r.method == "" {
		r.method = http.MethodGet
	} else if !slices.Contains(methods, r.method) {
		fail("method %q is not one of %s", h.Method, strings.Join(methods, ", "))
	}

	switch u, err := url.Parse(h.URL); {
	case h.URL == "":
		fail("url is required")
	case !strings.Contains(h.URL, "://"):
		fail("url %q: want an absolute URL starting with http:// or https://", h.URL)
	case err != nil:
		fail("url %q: %v", h.URL, errors.Unwrap(err))
	case u.Scheme != "http" && u.Scheme != "https":
		fail("url %q: scheme %q is not http or https", h.URL, u.Scheme)
	case u.Host == "":
		fail("url %q has no host", h.URL)
	default:
		r.url = u
	}
	if r.url != nil && len(h.Query) > 0 {
		q := r.url.Query()
		for _, k := range sortedKeys(h.Query) {
			vs, err := textValues(h.Query[k])
			if err != nil {
				fail("query %q: %v", k, err)
			}
			q[k] = append(q[k], vs...)
		}
		r.url.RawQuery = q.Encode()
	}

	for _, k := range sortedKeys(h.Headers) {
		vs, err := textValues(h.Headers[k])
		switch {
		case err != nil:
			fail("header %q: %v", k, err)
		case !isToken(k):
			fail("header name %q is not a valid HTTP header name", k)
		case slices.ContainsFunc(vs, func(v string) bool { return strings.ContainsAny(v, "\r\n\x00") }):
			fail("header %q: value contains a line break or NUL", k)
		case http.CanonicalHeaderKey(k) == "Host":
			if len(vs) > 0 {
				r.host = vs[len(vs)-1]
			}
		default:
			r.header[http.CanonicalHeaderKey(k)] = append(r.header[http.CanonicalHeaderKey(k)], vs...)
		}
	}

	switch {
	case h.Body != "" && h.JSON != nil:
		fail("body and json are mutually exclusive; use one")
	case h.Body != "":
		r.body = []byte(h.Body)
	case h.JSON != nil:
		b, err := json.Marshal(h.JSON)
		if err != nil {
			fail("json: cannot encode as JSON: %v", err)
		}
		r.body = b
		if r.header.Get("Content-Type") == "" {
			r.header.Set("Content-Type", "application/json")
		}
	}
	if r.header.Get("User-Agent") == "" {
		r.header.Set("User-Agent", "flowrun")
	}

	switch {
	case r.timeout < 0:
		fail("timeout %v is negative", r.timeout)
	case r.timeout == 0:
		r.timeout = DefaultTimeout
	}
	switch {
	case r.maxBody < 0:
		fail("max_body %d is negative", r.maxBody)
	case r.maxBody == 0:
		r.maxBody = int64(DefaultMaxBody)
	}

	status, err := parseStatus(h.Expect.Status)
	if err != nil {
		fail("expect.status: %v", err)
	}
	r.status = status
	r.check = h.Expect.JSON
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	r.urlText = r.url.String()
	return r, nil
}

// textValues turns a header or query value into its text form: a scalar
// gives one value, a list one per element.
func textValues(v any) ([]string, error) {
	if list, ok := v.([]any); ok {
		out := make([]string, 0, len(list))
		for _, e := range list {
			s, err := text(e)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := text(v)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

func text(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case nil:
		return "", nil
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(v), nil
	}
	return "", fmt.Errorf("got %T; want a string, number, boolean or a list of them", v)
}

// isToken reports whether s is an RFC 9110 token, the syntax of a header
// name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ByteSize is a number of bytes, written in a workflow as a plain number
// or with a unit, as in `max_body: 512KiB` (steps.ByteSize).
type ByteSize = steps.ByteSize

var (
	_ steps.Step      = (*HTTP)(nil)
	_ steps.Validator = (*HTTP)(nil)
)
