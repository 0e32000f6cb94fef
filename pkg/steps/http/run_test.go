package http

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/steps"
)

func TestRequest(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name  string
		h     HTTP
		check func(t *testing.T, s seen)
	}{
		{"method defaults to GET", HTTP{}, func(t *testing.T, s seen) {
			if s.Method != "GET" || s.Body != "" {
				t.Errorf("got %s with body %q; want GET without body", s.Method, s.Body)
			}
		}},
		{"method in any case", HTTP{Method: "delete"}, func(t *testing.T, s seen) {
			if s.Method != "DELETE" {
				t.Errorf("got method %s; want DELETE", s.Method)
			}
		}},
		{"headers", HTTP{Headers: map[string]any{"x-token": "abc", "X-List": []any{"a", "b"}, "X-Num": 5}}, func(t *testing.T, s seen) {
			want := map[string][]string{"X-Token": {"abc"}, "X-List": {"a", "b"}, "X-Num": {"5"}}
			for k, v := range want {
				if diff := cmp.Diff(v, s.Header[k]); diff != "" {
					t.Errorf("header %s (-want +got):\n%s", k, diff)
				}
			}
			if got := s.Header["User-Agent"]; len(got) != 1 || got[0] != "flowrun" {
				t.Errorf("got User-Agent %q; want flowrun", got)
			}
		}},
		{"host header", HTTP{Headers: map[string]any{"Host": "api.example"}}, func(t *testing.T, s seen) {
			if s.Host != "api.example" {
				t.Errorf("got host %q; want api.example", s.Host)
			}
		}},
		{"query joins the URL's", HTTP{URL: "/echo?keep=1", Query: map[string]any{"q": "a b&c", "n": 3, "tag": []any{"x", "y"}}}, func(t *testing.T, s seen) {
			want := map[string][]string{"keep": {"1"}, "q": {"a b&c"}, "n": {"3"}, "tag": {"x", "y"}}
			if diff := cmp.Diff(want, s.Query); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
		}},
		{"body", HTTP{Method: "PUT", Body: "plain text"}, func(t *testing.T, s seen) {
			if s.Body != "plain text" || s.Header["Content-Type"] != nil {
				t.Errorf("got body %q, Content-Type %q; want plain text, none", s.Body, s.Header["Content-Type"])
			}
		}},
		{"json", HTTP{Method: "POST", JSON: map[string]any{"dry": true, "ns": []any{"a"}}}, func(t *testing.T, s seen) {
			var got any
			if err := json.Unmarshal([]byte(s.Body), &got); err != nil {
				t.Fatalf("server got %q, not JSON: %v", s.Body, err)
			}
			if diff := cmp.Diff(map[string]any{"dry": true, "ns": []any{"a"}}, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"application/json"}, s.Header["Content-Type"]); diff != "" {
				t.Errorf("Content-Type (-want +got):\n%s", diff)
			}
		}},
		{"json keeps a Content-Type header", HTTP{Method: "POST", JSON: "x", Headers: map[string]any{"content-type": "application/vnd.flowrun+json"}}, func(t *testing.T, s seen) {
			if diff := cmp.Diff([]string{"application/vnd.flowrun+json"}, s.Header["Content-Type"]); diff != "" {
				t.Errorf("Content-Type (-want +got):\n%s", diff)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h
			if h.URL == "" {
				h.URL = "/echo"
			}
			h.URL = srv.URL + h.URL
			out, err := run(t, t.Context(), &h)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			b, _ := json.Marshal(out["body"])
			var s seen
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}

func TestOutput(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		path     string
		wantBody any
	}{
		{"/json", map[string]any{"items": 3, "name": "demo"}},
		{"/text", "hello flowrun"},
		{"/empty-json", nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			out, err := run(t, t.Context(), &HTTP{URL: srv.URL + tt.path})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if d, ok := out["duration_ms"].(float64); !ok || d < 0 {
				t.Errorf("got duration_ms %#v; want a float64 >= 0", out["duration_ms"])
			}
			if diff := cmp.Diff(tt.wantBody, out["body"]); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if got := out["status"]; got != 200 {
				t.Errorf("got status %#v; want int 200", got)
			}
			headers, ok := out["headers"].(map[string]any)
			if !ok || headers["Content-Length"] == nil {
				t.Errorf("got headers %#v; want a map[string]any with Content-Length", out["headers"])
			}
			if _, err := json.Marshal(out); err != nil {
				t.Errorf("output is not JSON-representable: %v", err)
			}
		})
	}
	t.Run("first header value", func(t *testing.T) {
		out, err := run(t, t.Context(), &HTTP{URL: srv.URL + "/json"})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got := out["headers"].(map[string]any)["X-Multi"]; got != "first" {
			t.Errorf("got X-Multi %#v; want first", got)
		}
	})
}

func TestExpect(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name      string
		path      string
		expect    Expect
		follow    Redirects
		wantErr   string // "" for success; the full message after the URL otherwise
		permanent bool
	}{
		{name: "2xx by default", path: "/json"},
		{name: "404 is permanent", path: "/status/404", wantErr: "status 404 Not Found, want 2xx", permanent: true},
		{name: "404 listed", path: "/status/404", expect: Expect{Status: []any{200, 404}}},
		{name: "4xx class", path: "/status/404", expect: Expect{Status: "4xx"}},
		{name: "single code", path: "/status/204", expect: Expect{Status: 204}},
		{name: "code missing from list", path: "/status/200", expect: Expect{Status: []any{201, "3xx"}}, wantErr: "status 200 OK, want 201 or 3xx", permanent: true},
		{name: "500 is retryable", path: "/status/500", wantErr: "status 500 Internal Server Error, want 2xx"},
		{name: "503 is retryable", path: "/status/503", wantErr: "status 503 Service Unavailable, want 2xx"},
		{name: "429 is retryable", path: "/status/429", wantErr: "status 429 Too Many Requests, want 2xx"},
		{name: "error body is quoted", path: "/problem", wantErr: `status 409 Conflict, want 2xx; body: {"title": "namespace is being copied"}`, permanent: true},
		{name: "redirect not followed", path: "/redirect", follow: RedirectNever, wantErr: "status 302 Found, want 2xx", permanent: true},
		{name: "redirect expected", path: "/redirect", follow: RedirectNever, expect: Expect{Status: 302}},
		{name: "redirect followed", path: "/redirect", follow: RedirectAny, expect: Expect{JSON: mustExpr(`body.name == "demo"`)}},
		{name: "json true", path: "/json", expect: Expect{JSON: mustExpr(`body.items > 2 && status == 200 && headers["X-Multi"] == "first"`)}},
		{name: "json false", path: "/json", expect: Expect{JSON: mustExpr("body.items > 5")}, wantErr: `expect.json "body.items > 5" is false`, permanent: true},
		{name: "json over text", path: "/text", expect: Expect{JSON: mustExpr(`body startsWith "hello"`)}},
		{name: "json fails to run", path: "/json", expect: Expect{JSON: mustExpr("body.missing.x == 1")}, wantErr: `expect.json "body.missing.x == 1": cannot fetch x`, permanent: true},
		{name: "body contains", path: "/text", expect: Expect{BodyContains: "flowrun"}},
		{name: "body lacks", path: "/text", expect: Expect{BodyContains: "argo"}, wantErr: `expect.body_contains "argo": not in the body; body: hello flowrun`, permanent: true},
		{name: "invalid JSON response", path: "/bad-json", wantErr: "response says it is JSON but is not", permanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := srv.URL + tt.path
			out, err := run(t, t.Context(), &HTTP{URL: url, Expect: tt.expect, FollowRedirects: tt.follow})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if out["status"] == nil {
					t.Errorf("got output %v; want a status", out)
				}
				return
			}
			if err == nil {
				t.Fatalf("Run succeeded with %v; want error %q", out, tt.wantErr)
			}
			if want := "GET " + url + ": " + tt.wantErr; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("got error %q; want it to start with %q", err, want)
			}
			if got := steps.IsPermanent(err); got != tt.permanent {
				t.Errorf("got IsPermanent %v; want %v", got, tt.permanent)
			}
		})
	}
}

func TestMaxBody(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name    string
		size    int
		max     ByteSize
		wantErr string
	}{
		{"under", 1000, 1 << 10, ""},
		{"exactly", 1024, 1 << 10, ""},
		{"over", 1025, 1 << 10, "response body exceeds max_body of 1KiB"},
		{"default", 20000, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(t, t.Context(), &HTTP{URL: srv.URL + "/big/" + strconv.Itoa(tt.size), MaxBody: tt.max})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if got := len(out["body"].(string)); got != tt.size {
					t.Errorf("got a body of %d bytes; want %d", got, tt.size)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !steps.IsPermanent(err) {
				t.Errorf("got error %v; want a permanent error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	srv := newServer(t)
	for _, path := range []string{"/hang", "/stall"} {
		t.Run(path, func(t *testing.T) {
			_, err := run(t, t.Context(), &HTTP{URL: srv.URL + path, Timeout: 50 * time.Millisecond})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got error %v; want one wrapping context.DeadlineExceeded", err)
			}
			if want := "no complete response within the timeout of 50ms"; !strings.Contains(err.Error(), want) {
				t.Errorf("got error %q; want it to say %q", err, want)
			}
			if steps.IsPermanent(err) {
				t.Errorf("a timeout is permanent; want it retried")
			}
		})
	}
}

func TestCancel(t *testing.T) {
	srv := newServer(t)
	for _, path := range []string{"/hang", "/stall"} {
		t.Run(path, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			// The step's own timeout is far away: only cancel can end the request.
			time.AfterFunc(20*time.Millisecond, cancel)
			_, err := run(t, ctx, &HTTP{URL: srv.URL + path, Timeout: time.Hour})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("got error %v; want one wrapping context.Canceled", err)
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	srv := newServer(t)
	url := srv.URL + "/json"
	srv.Close()
	_, err := run(t, t.Context(), &HTTP{URL: url})
	if err == nil || !strings.HasPrefix(err.Error(), "GET "+url+": ") {
		t.Fatalf("got error %v; want one naming the request", err)
	}
	if steps.IsPermanent(err) {
		t.Errorf("got a permanent error; want connection errors retried")
	}
}

// TestErrorRedactsURLCredentials checks that a failing request's error
// shows neither the password of the URL nor a credential in its query,
// whether the URL or the query: field carries it.
func TestErrorRedactsURLCredentials(t *testing.T) {
	srv := newServer(t)
	u := strings.Replace(srv.URL, "http://", "http://me:pa55word@", 1)
	h := &HTTP{URL: u + "/status/500?api_key=k3y-s3cret&page=2", Query: map[string]any{"X-Amz-Signature": "s1gnature"}}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	_, err := run(t, context.Background(), h)
	if err == nil {
		t.Fatal("got no error; want status 500")
	}
	msg := err.Error()
	for _, secret := range []string{"pa55word", "k3y-s3cret", "s1gnature"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error shows %q: %s", secret, msg)
		}
	}
	for _, want := range []string{"me:***@", "api_key=***", "X-Amz-Signature=***", "page=2", "status 500"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

// TestErrorMasksSecretsBeforeURLs: the run's Masker (steps.Input.Mask)
// masks a failed request's error, secrets first: a secret holding '&' in
// a query is masked whole, not cut at the '&' by the URL redaction.
func TestErrorMasksSecretsBeforeURLs(t *testing.T) {
	srv := newServer(t)
	const secret = "ABCDEF&GHIJKLMNOPQRSTUVWXYZ0123456789"
	h := &HTTP{URL: srv.URL + "/status/500?token=" + secret}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	_, err := h.Run(context.Background(), &steps.Input{Index: -1, Mask: mask.New(secret)})
	if err == nil {
		t.Fatal("got no error; want status 500")
	}
	if msg := err.Error(); strings.Contains(msg, "GHIJKLMNOP") || !strings.Contains(msg, "token=***") {
		t.Errorf("error %q; want the secret masked whole", msg)
	}
	if steps.IsPermanent(err) {
		t.Error("a 500 became permanent through masking")
	}
}

// TestBodySnippetMaskedBeforeCut: the body an error quotes is masked
// before its spaces are collapsed and before it is cut, so that a secret
// straddling the cut, or holding a tab or two spaces, is masked whole.
func TestBodySnippetMaskedBeforeCut(t *testing.T) {
	const secret = "ABCDEFGH\tIJKLMNOP  QRSTUVWXYZ0123456789"
	tests := []struct {
		name string
		body string
	}{
		{"straddles byte 200", strings.Repeat("x", 190) + secret},
		{"straddles the kept start", strings.Repeat("x", headBytes-10) + secret},
		{"spaces inside", "bad token " + secret + " given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			h := &HTTP{URL: srv.URL}
			if err := h.Validate(); err != nil {
				t.Fatal(err)
			}
			_, err := h.Run(context.Background(), &steps.Input{Index: -1, Mask: mask.New(secret)})
			if err == nil {
				t.Fatal("got no error; want status 401")
			}
			msg := err.Error()
			for _, piece := range []string{"ABCDEF", "IJKLMN", "QRSTUV", "456789"} {
				if strings.Contains(msg, piece) {
					t.Errorf("error shows %q: %s", piece, msg)
				}
			}
			if !strings.Contains(msg, "status 401") || !strings.Contains(msg, "body: ") {
				t.Errorf("error %q; want the status and a body", msg)
			}
		})
	}
}
