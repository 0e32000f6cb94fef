package http

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/stepjson"
	"github.com/flowrun/flowrun/pkg/steps"
)

// Run sends the request for one item and checks the response against
// Expect. Its output is a map with status, headers, body and duration_ms;
// when nobody reads it (steps.Input.OutputUnread) and the body is plain
// JSON or empty, that map written as JSON (a stepjson.Output; see
// encoded). See the package documentation for which errors are retried.
func (h *HTTP) Run(ctx context.Context, in *steps.Input) (any, error) {
	r, err := h.prepared, error(nil)
	if r == nil {
		r, err = h.prepare()
	}
	if err != nil {
		return nil, steps.Permanent(err)
	}
	var res *steps.Resources
	var mk *mask.Masker
	o := new(steps.Outcome)
	var rd reading
	if in != nil {
		res, mk, o = in.Resources, in.Mask, &in.Outcome
		rd = reading{unread: in.OutputUnread, discard: in.OutputDiscarded, maxParsed: in.MaxParsed}
	}
	out, err := r.do(ctx, r.client(res), mk, o, rd)
	if err != nil {
		return nil, masked(mk, err)
	}
	return out, nil
}

// reading is what an item tells the step about reading the body: unread
// (steps.Input.OutputUnread) keeps a JSON body that needs no decoding to
// be written as it reads as its text; maxParsed (steps.Input.MaxParsed)
// bounds the memory of a decoded body; discard (steps.Input.
// OutputDiscarded) checks the response as ever but keeps nothing of it:
// the item's output is nil.
type reading struct {
	unread, discard bool
	maxParsed       int64
}

// client returns the client that sends the request through the run's
// transport: made for the first item, kept for the next ones of the same
// run, so that an item takes no lock to find the transport.
func (r *request) client(res *steps.Resources) *http.Client {
	if c := r.cached.Load(); c != nil && c.res == res {
		return c.client
	}
	c := &runClient{res: res, client: &http.Client{Transport: transport(res), CheckRedirect: r.follow.checkRedirect}}
	r.cached.Store(c)
	return c.client
}

// runClient is a client and the run's resources it was made for.
type runClient struct {
	res    *steps.Resources
	client *http.Client
}

// masked returns err with its text masked by m: the run's secrets first,
// then the credentials of URLs (the request's, a redirect's), so that a
// secret holding '&' in a query is masked whole before the URL's
// credential parameters are redacted. It still wraps err, so that
// errors.Is and steps.IsPermanent see through it.
func masked(m *mask.Masker, err error) error {
	return &maskedError{msg: m.String(err.Error()), err: err}
}

type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

// do sends the request and checks the response; o is told the status and
// how the request failed.
// rd says how the body is read (see reading).
func (r *request) do(ctx context.Context, client *http.Client, m *mask.Masker, o *steps.Outcome, rd reading) (any, error) {
	// The timeout covers reading the body too: a server that sends headers
	// and then stalls must not hold a worker forever.
	reqCtx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()

	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(reqCtx, r.method, r.urlText, body)
	if err != nil {
		o.Kind = steps.KindOther
		return nil, steps.Permanent(r.errorf("%v", err))
	}
	// Shared by every item, never written: net/http does not modify a
	// request's headers (a redirect gets a copy).
	req.Header = r.header
	if r.host != "" {
		req.Host = r.host
	}

	start := time.Now()
	resp, err := client.Do(req)
	if errors.Is(err, errCrossOrigin) {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		o.Kind = steps.KindOther
		return nil, steps.Permanent(r.errorf("%v", err))
	}
	if err != nil {
		return nil, r.failure(ctx, reqCtx, err, o)
	}
	o.Code = resp.StatusCode
	read := false // the body was read to its end: nothing to drain
	defer func() {
		if read {
			_ = resp.Body.Close()
		} else {
			drainAndClose(resp.Body)
		}
	}()

	if !r.status.match(resp.StatusCode) {
		head, err := io.ReadAll(io.LimitReader(resp.Body, headBytes))
		if err != nil {
			return nil, r.failure(ctx, reqCtx, err, o)
		}
		o.Kind = steps.KindExpectation
		err = r.errorf("status %s, want %s%s", resp.Status, r.status, snippet(m, head, len(head) == headBytes))
		if retryable(resp.StatusCode) {
			return nil, err
		}
		return nil, steps.Permanent(err)
	}
	// expect.json reads the decoded body.
	keep := keepDecoded
	switch {
	case !r.check.IsZero():
	case rd.discard:
		keep = keepNothing
	case rd.unread:
		keep = keepJSONText
	}
	b, err := readBody(resp.Body, resp.ContentLength, r.maxBody, isJSON(contentType(resp.Header)), r.contains != "", keep, rd.maxParsed)
	var le *steps.MemoryLimitError
	var de *steps.DepthError
	switch {
	case errors.As(err, &le):
		o.Kind = steps.KindOther
		return nil, steps.Permanent(r.errorf("%v (the limit for parsed outputs; raise it with --max-parsed-output)", err))
	case errors.As(err, &de):
		o.Kind = steps.KindOther
		return nil, steps.Permanent(r.errorf("%v", err))
	case errors.Is(err, errTooLarge):
		o.Kind = steps.KindOther
		return nil, steps.Permanent(r.errorf("response body exceeds max_body of %s", ByteSize(r.maxBody)))
	case errors.Is(err, errNotJSON):
		o.Kind = steps.KindOther
		head := b.start()
		return nil, steps.Permanent(r.errorf("%v%s", err, snippet(m, head, len(head) == headBytes)))
	case err != nil:
		return nil, r.failure(ctx, reqCtx, err, o)
	}
	read = true
	elapsed := time.Since(start)

	if r.contains != "" && !strings.Contains(b.text, r.contains) {
		o.Kind = steps.KindExpectation
		head := b.start()
		return nil, steps.Permanent(r.errorf("expect.body_contains %q: not in the body%s", r.contains, snippet(m, head, len(head) == headBytes)))
	}
	if keep == keepNothing {
		return nil, nil // all checked; the output would be dropped
	}
	hs := r.headers(resp.Header, keep == keepJSONText)
	if keep == keepJSONText {
		if out, ok := encoded(resp.StatusCode, hs, b, elapsed); ok {
			return out, nil
		}
	}
	out := response{Status: resp.StatusCode, Headers: hs.m, Body: b.value}
	if !r.check.IsZero() {
		if err := checkJSON(r.check, out.Status, out.Headers, out.Body); err != nil {
			o.Kind = steps.KindExpectation
			return nil, steps.Permanent(r.errorf("%v", err))
		}
	}
	return map[string]any{
		"status":      out.Status,
		"headers":     out.Headers,
		"body":        out.Body,
		"duration_ms": durationMS(elapsed),
	}, nil
}

// durationMS is the output's duration_ms: milliseconds, to the
// microsecond.
func durationMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// encoded writes the output of a response whose output nobody reads
// (steps.Input.OutputUnread) straight as its JSON (stepjson.Object), so
// that the executor keeps it as it is instead of building the map and
// encoding it, its header map and its body text once more for every
// item. It does so when the body is a JSON text kept as it is (readBody's
// keepJSONText: stepjson.CheckText) or empty; for any other body
// (decoded, or not JSON) ok is false and the output is the map.
func encoded(status int, hs *headerSet, b body, elapsed time.Duration) (stepjson.Output, bool) {
	var text stepjson.Text // the zero Text: null, an empty body
	switch {
	case b.checked.Bytes() != nil:
		text = b.checked
	case b.value != nil:
		return stepjson.Output{}, false
	}
	if hs.jsonErr != nil {
		return stepjson.Output{}, false // headers JSON cannot hold as they are: the map
	}
	out, err := stepjson.Object(
		stepjson.Field{Key: "body", Value: text},
		stepjson.Field{Key: "duration_ms", Value: durationMS(elapsed)},
		stepjson.Field{Key: "headers", Value: hs.json},
		stepjson.Field{Key: "status", Value: status},
	)
	return out, err == nil
}

// OutputShape is the output's fields: status, headers, body (parsed when
// JSON) and duration_ms.
func (h *HTTP) OutputShape() any {
	return map[string]any{"status": 0, "headers": map[string]any{}, "body": nil, "duration_ms": 0.0}
}

var _ steps.OutputShaper = (*HTTP)(nil)

// errorf prefixes a message with the request, as in
// "GET http://127.0.0.1:8080/x: status 404 Not Found, want 2xx". The URL
// is as sent: Run masks the whole message (masked), secrets before URL
// credentials.
func (r *request) errorf(format string, args ...any) error {
	args = append([]any{r.method, r.url.String()}, args...)
	return fmt.Errorf("%s %s: "+format, args...)
}

// failure explains an error from sending the request or reading the body,
// telling the step's own timeout apart from the caller's cancellation, and
// tells o how the request failed (nothing when it was cancelled). Both
// stay retryable: the next attempt may well get through.
func (r *request) failure(ctx, reqCtx context.Context, err error, o *steps.Outcome) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		// The step's timeout: (flowrun's, around every attempt).
		o.Kind = steps.KindTimeout
		return r.errorf("%w", ctx.Err())
	case ctx.Err() != nil:
		return r.errorf("%w", ctx.Err())
	case errors.Is(reqCtx.Err(), context.DeadlineExceeded):
		o.Kind = steps.KindTimeout
		return r.errorf("no complete response within the timeout of %v: %w", r.timeout, context.DeadlineExceeded)
	}
	o.Kind = failureKind(err)
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the method and URL
	}
	return r.errorf("%w", err)
}

// failureKind names how a connection failed, for the block's counts.
func failureKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return steps.KindConnectionRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		// A reset, or a connection the server closed before answering.
		return steps.KindReset
	case errors.As(err, &ne) && ne.Timeout():
		return steps.KindTimeout
	}
	return steps.KindOther
}

// retryable reports whether a status that failed expect.status may succeed
// when asked again: server errors, and the two client errors that ask for
// a retry.
func retryable(code int) bool {
	return code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests
}

// drainAndClose reads what is left of a body, up to a bound, before
// closing it: only a body read to its end lets the transport reuse the
// connection. A larger remainder costs less to drop with the connection.
func drainAndClose(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 256<<10)
	_ = body.Close()
}

// headerSet is the headers of a response as its output holds them: the
// first value of each (firstValues), and, for outputs written as JSON
// (encoded), that map's JSON (stepjson.Value).
type headerSet struct {
	m        map[string]any
	withJSON bool // json and jsonErr are set
	json     stepjson.Output
	jsonErr  error
}

// headers returns the output's headers: those of the previous response
// when this one has the same headers, so that a block of responses that
// differ only in their bodies keeps one map, not one per item, and
// encodes it once. withJSON asks for the map's JSON too (every item of a
// step asks alike: whether its outputs are read is the step's). The map
// is never written once made (outputs are read-only: expressions,
// masking and reports copy what they change).
func (r *request) headers(h http.Header, withJSON bool) *headerSet {
	if last := r.lastHeaders.Load(); last != nil && (last.withJSON || !withJSON) && sameFirstValues(last.m, h) {
		return last
	}
	hs := &headerSet{m: firstValues(h), withJSON: withJSON}
	if withJSON {
		hs.json, hs.jsonErr = stepjson.Value(hs.m)
	}
	r.lastHeaders.Store(hs)
	return hs
}

// sameFirstValues reports whether m is firstValues(h).
func sameFirstValues(m map[string]any, h http.Header) bool {
	if len(m) != len(h) {
		return false
	}
	for k, vs := range h {
		v, ok := m[k]
		if !ok || len(vs) == 0 || v != vs[0] {
			return false
		}
	}
	return true
}

// contentType is a response's Content-Type, read by its canonical key
// (net/http canonicalizes a response's keys as it reads them; Get would
// check the constant key over again for every item).
func contentType(h http.Header) string {
	if vs := h["Content-Type"]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// firstValues keeps the first value of each response header. The keys of
// a response's Header are canonical already: net/http canonicalizes them
// as it reads them.
func firstValues(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	for k, vs := range h {
		if len(vs) > 0 {
			out[k] = vs[0]
		}
	}
	return out
}

// isJSON reports whether a Content-Type is application/json or a
// +json type such as application/problem+json.
func isJSON(contentType string) bool {
	switch contentType {
	case "application/json", "application/json; charset=utf-8":
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// snippet quotes the start of a body for an error message, on one line:
// masked first (m, the run's secrets), then its whitespace collapsed and
// then cut, since a secret with its spaces collapsed or cut in two would
// no longer be recognised. cut says the body goes on past raw.
func snippet(m *mask.Masker, raw []byte, cut bool) string {
	const limit = 200
	s := strings.Join(strings.Fields(m.Head(raw, len(raw), cut)), " ")
	if s == "" {
		return ""
	}
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") + "…"
	} else if cut {
		s += "…"
	}
	return "; body: " + s
}

// transportKey stores the run's transport in steps.Resources.
type transportKey struct{}

// transport returns the transport that every http step of a run shares,
// creating it on first use. Without Resources (a step run outside flowrun's
// executor, as in a test of another package) it falls back to one
// package-wide transport.
func transport(res *steps.Resources) *http.Transport {
	if res == nil {
		return defaultTransport()
	}
	return res.Load(transportKey{}, func() any { return newTransport(res.Workers) }).(*http.Transport)
}

var defaultTransport = sync.OnceValue(func() *http.Transport { return newTransport(0) })

// newTransport returns a keep-alive transport that holds an idle
// connection per worker. net/http's default keeps 2 per host, so a block of
// 100 workers against one backend would close and reopen 98 connections for
// every round of items, leaving sockets in TIME_WAIT until the local ports
// run out. Zero workers means the concurrency is unknown: the transport
// keeps every connection it made and sets no cap.
func newTransport(workers int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DisableKeepAlives = false
	if workers <= 0 {
		// No idle limit: a connection is only ever made for a request in
		// flight, so the idle ones never outnumber the most requests the
		// run had in flight at once. A limit (net/http's default of 100)
		// would close the connections of a 150-worker block that waits
		// between rounds, and dial them again.
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 0, math.MaxInt
		return t
	}
	n := max(workers, http.DefaultMaxIdleConnsPerHost)
	t.MaxIdleConnsPerHost = n
	// MaxIdleConns bounds all hosts together; below n, even one host could
	// not keep a connection per worker.
	t.MaxIdleConns = max(n, t.MaxIdleConns)
	// The cap is what makes "one connection per worker" hold: without it,
	// a request that finds no idle connection dials, and if another
	// connection frees up first, the dial still completes, so a burst of N
	// workers opens more than N. A request over the cap waits for a
	// connection, within its timeout. Two blocks that run at once against
	// one host share the cap: Resources.Workers is the sum of their
	// workers, so each still has a connection per worker.
	t.MaxConnsPerHost = n
	return t
}
