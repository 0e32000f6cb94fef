package http

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/pkg/steps"
)

// TestDecode decodes a configuration the way flowrun does: strictly, into
// the value that New returns.
func TestDecode(t *testing.T) {
	src := `
method: post
url: https://api.example/copy
headers: {X-Token: abc}
query: {page: 2}
json: {dry: true}
timeout: 2s
follow_redirects: false
max_body: 512KiB
expect:
  status: [200, "3xx"]
  json: body.ok
  body_contains: copied
`
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	info, _ := steps.Lookup("http")
	h := info.New().(*HTTP)
	if err := dec.Decode(h); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want := &HTTP{
		Method:          "post",
		URL:             "https://api.example/copy",
		Headers:         map[string]any{"X-Token": "abc"},
		Query:           map[string]any{"page": 2},
		JSON:            map[string]any{"dry": true},
		Timeout:         2 * time.Second,
		FollowRedirects: RedirectNever,
		MaxBody:         512 << 10,
		Expect:          Expect{Status: []any{200, "3xx"}, JSON: steps.Expression{Source: "body.ok"}, BodyContains: "copied"},
	}
	if diff := cmp.Diff(want, h, cmpopts.IgnoreUnexported(HTTP{}, steps.Expression{})); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	if err := h.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}

	dec = yaml.NewDecoder(bytes.NewReader([]byte("url: http://x\nheader: {a: b}\n")))
	dec.KnownFields(true)
	if err := dec.Decode(new(HTTP)); err == nil || !strings.Contains(err.Error(), "field header not found") {
		t.Errorf("got %v decoding an unknown key; want an error naming it", err)
	}
}

func TestValidate(t *testing.T) {
	const u = "http://127.0.0.1:8080/x"
	tests := []struct {
		name string
		h    HTTP
		want []string // substrings of the error; none for a valid step
	}{
		{"minimal", HTTP{URL: u}, nil},
		{"https with everything", HTTP{URL: "https://api.example", Method: "patch", JSON: []any{1}, Headers: map[string]any{"X-A": true}, Query: map[string]any{"a": nil}, Expect: Expect{Status: "2XX", JSON: mustExpr("status < 300")}}, nil},
		{"no url", HTTP{}, []string{"url is required"}},
		{"unparseable url", HTTP{URL: "http://a b/"}, []string{`url "http://a b/": invalid character " " in host name`}},
		{"scheme", HTTP{URL: "ftp://example.com"}, []string{`url "ftp://example.com": scheme "ftp" is not http or https`}},
		{"no scheme", HTTP{URL: "127.0.0.1:8080/x"}, []string{`url "127.0.0.1:8080/x": want an absolute URL starting with http:// or https://`}},
		{"no host", HTTP{URL: "http:///x"}, []string{"has no host"}},
		{"method", HTTP{URL: u, Method: "FETCH"}, []string{`method "FETCH" is not one of GET, HEAD, POST`}},
		{"body and json", HTTP{URL: u, Body: "x", JSON: map[string]any{}}, []string{"body and json are mutually exclusive"}},
		{"json not encodable", HTTP{URL: u, JSON: map[any]any{1: "x"}}, []string{"json: cannot encode as JSON"}},
		{"header name", HTTP{URL: u, Headers: map[string]any{"Bad Name": "x"}}, []string{`header name "Bad Name" is not a valid HTTP header name`}},
		{"header injection", HTTP{URL: u, Headers: map[string]any{"X-A": "a\r\nX-B: b"}}, []string{`header "X-A": value contains a line break`}},
		{"header map value", HTTP{URL: u, Headers: map[string]any{"X-A": map[string]any{}}}, []string{`header "X-A": got map[string]interface {}; want a string`}},
		{"query map value", HTTP{URL: u, Query: map[string]any{"q": []any{[]any{}}}}, []string{`query "q": got []interface {}`}},
		{"negative timeout", HTTP{URL: u, Timeout: -time.Second}, []string{"timeout -1s is negative"}},
		{"negative max_body", HTTP{URL: u, MaxBody: -1}, []string{"max_body -1 is negative"}},
		{"status code range", HTTP{URL: u, Expect: Expect{Status: 99}}, []string{"expect.status: 99 is not a status"}},
		{"status class", HTTP{URL: u, Expect: Expect{Status: "6xx"}}, []string{"expect.status: 6xx is not a status"}},
		{"status text", HTTP{URL: u, Expect: Expect{Status: []any{200, "ok"}}}, []string{"expect.status: ok is not a status"}},
		{"status type", HTTP{URL: u, Expect: Expect{Status: []any{true}}}, []string{"expect.status: got bool"}},
		{"status fraction", HTTP{URL: u, Expect: Expect{Status: 200.5}}, []string{"expect.status: 200.5 is not a status"}},
		{"status empty", HTTP{URL: u, Expect: Expect{Status: []any{}}}, []string{"expect.status: empty list"}},
		{"every problem at once", HTTP{Method: "FETCH", Body: "x", JSON: 1}, []string{"method", "url is required", "mutually exclusive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.h.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("got error %v; want none", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got no error; want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got error %q; want it to contain %q", err, w)
				}
			}
			// Run refuses the same configuration, without retries.
			if _, err := tt.h.Run(t.Context(), &steps.Input{}); !steps.IsPermanent(err) {
				t.Errorf("Run got error %v; want a permanent one", err)
			}
		})
	}
}

func TestStatusString(t *testing.T) {
	tests := []struct {
		status any
		want   string
	}{
		{nil, "2xx"},
		{404, "404"},
		{[]any{200, 201}, "200 or 201"},
		{[]any{200, 204, "3xx"}, "200, 204 or 3xx"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			s, err := parseStatus(tt.status)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.String(); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    ByteSize
		wantErr bool
	}{
		{"1048576", 1 << 20, false},
		{"10MiB", 10 << 20, false},
		{"1.5 KiB", 1536, false},
		{"2MB", 2e6, false},
		{"512B", 512, false},
		{"1e3", 1000, false},
		{"0.5B", 0, true},
		{"ten", 0, true},
		{"10 TiB", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got ByteSize
			err := got.UnmarshalText([]byte(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("got %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	for size, want := range map[ByteSize]string{10 << 20: "10MiB", 1500: "1500B", 0: "0B", 3 << 30: "3GiB"} {
		if got := size.String(); got != want {
			t.Errorf("ByteSize(%d).String() = %q; want %q", int64(size), got, want)
		}
	}
}
