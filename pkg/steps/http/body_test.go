package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// bodyServer serves body with the content type at every path.
func bodyServer(t testing.TB, contentType, body string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestBodyNumbers checks that integers beyond 2^53 in a JSON response
// reach the output exactly, by flowrun's one number policy.
func TestBodyNumbers(t *testing.T) {
	url := bodyServer(t, "application/json", `{"ids":[1234567890123456789, 9007199254740993, 18446744073709551615, 123456789012345678901234567890], "f": 1.5}`)
	out, err := run(t, t.Context(), &HTTP{URL: url})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := map[string]any{
		"ids": []any{1234567890123456789, 9007199254740993, uint64(18446744073709551615), json.Number("123456789012345678901234567890")},
		"f":   1.5,
	}
	if diff := cmp.Diff(want, out["body"]); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestBodyRead(t *testing.T) {
	big := `{"s":"` + strings.Repeat("x", 2000) + `"}`
	tests := []struct {
		name, contentType, body string
		h                       HTTP
		want                    any
		wantErr                 string
	}{
		{name: "json over the limit", contentType: "application/json", body: big, h: HTTP{MaxBody: 1000}, wantErr: "response body exceeds max_body of 1000B"},
		{name: "text over the limit", contentType: "text/plain", body: big, h: HTTP{MaxBody: 1000}, wantErr: "response body exceeds max_body of 1000B"},
		{name: "json at the limit", contentType: "application/json", body: `{"a": 1}`, h: HTTP{MaxBody: 8}, want: map[string]any{"a": 1}},
		{name: "blank json", contentType: "application/json", body: " \n ", want: nil},
		{name: "invalid json", contentType: "application/json", body: `{"a": nope}`, wantErr: `response says it is JSON but is not: invalid character 'o' in literal null (expecting 'u'); body: {"a": nope}`},
		{name: "two json values", contentType: "application/json", body: `{} {}`, wantErr: "response says it is JSON but is not: more than one JSON value"},
		{name: "json searched", contentType: "application/json", body: `{"a": 9007199254740993}`, h: HTTP{Expect: Expect{BodyContains: "9007"}}, want: map[string]any{"a": 9007199254740993}},
		{name: "json searched, missing", contentType: "application/json", body: `{"a": 1}`, h: HTTP{Expect: Expect{BodyContains: "zzz"}}, wantErr: `expect.body_contains "zzz": not in the body; body: {"a": 1}`},
		{name: "text", contentType: "text/plain", body: "hello", want: "hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h
			h.URL = bodyServer(t, tt.contentType, tt.body)
			out, err := run(t, t.Context(), &h)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v; want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if diff := cmp.Diff(tt.want, out["body"]); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

// BenchmarkJSONBody reads a 6.6 MB JSON body of small objects; -benchmem
// shows the bytes allocated per read, which the decoded value dominates.
func BenchmarkJSONBody(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"items":[`)
	for i := 0; sb.Len() < 6_600_000; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"id":%d,"name":"ns-%d"}`, 1234567890123456789+i, i)
	}
	sb.WriteString(`]}`)
	url := bodyServer(b, "application/json", sb.String())
	h := &HTTP{URL: url}
	if err := h.Validate(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(sb.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Run(b.Context(), nil); err != nil {
			b.Fatal(err)
		}
	}
}
