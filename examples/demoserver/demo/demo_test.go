package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// call serves one request in process and decodes the JSON reply.
func call(t *testing.T, h http.Handler, method, target string) (int, any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	if got := rec.Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("%s %s: got Content-Type %q; want application/json", method, target, got)
	}
	var body any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, target, rec.Body, err)
	}
	return rec.Code, body
}

func testOptions() Options {
	return Options{
		Namespaces: []Namespace{{"ns-1", 3}, {"ns-2", 5}},
		Backends: []Backend{
			{Name: "up"},
			{Name: "down", Unhealthy: true},
			{Name: "flaky", FailRate: 1},
		},
	}
}

func TestEndpoints(t *testing.T) {
	tests := []struct {
		method, target string
		wantCode       int
		wantBody       string
	}{
		{"GET", "/healthz", 200, `{"status": "ok"}`},
		{"GET", "/namespaces", 200, `{"namespaces": [{"name": "ns-1", "items": 3}, {"name": "ns-2", "items": 5}]}`},
		{"POST", "/copy/ns-2", 200, `{"namespace": "ns-2", "copied": 5}`},
		{"POST", "/copy/ns-9", 404, `{"error": "unknown namespace \"ns-9\""}`},
		{"GET", "/backends", 200, `{"backends": ["up", "down", "flaky"]}`},
		{"GET", "/backends/up/health", 200, `{"backend": "up", "healthy": true}`},
		{"GET", "/backends/down/health", 503, `{"backend": "down", "healthy": false}`},
		{"GET", "/backends/gone/health", 404, `{"error": "unknown backend \"gone\""}`},
		{"GET", "/backends/up/work", 200, `{"backend": "up", "n": 1, "result": 1}`},
		{"GET", "/backends/up/work?n=7", 200, `{"backend": "up", "n": 7, "result": 49}`},
		{"GET", "/backends/up/work?n=x", 400, `{"error": "n=\"x\": want a whole number from 0 to 1000000"}`},
		{"GET", "/backends/down/work", 503, `{"error": "backend \"down\" is unhealthy"}`},
		{"GET", "/backends/flaky/work", 500, `{"error": "injected failure in backend \"flaky\""}`},
		{"GET", "/backends/gone/work", 404, `{"error": "unknown backend \"gone\""}`},
	}
	h := New(testOptions())
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			code, body := call(t, h, tt.method, tt.target)
			if code != tt.wantCode {
				t.Errorf("got status %d; want %d", code, tt.wantCode)
			}
			var want any
			if err := json.Unmarshal([]byte(tt.wantBody), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCopied(t *testing.T) {
	h := New(testOptions())
	for _, step := range []struct {
		copy string
		want []any
	}{
		{"", []any{}},
		{"ns-2", []any{"ns-2"}},
		{"ns-1", []any{"ns-1", "ns-2"}},
		{"ns-2", []any{"ns-1", "ns-2"}}, // copying twice records it once
		{"ns-9", []any{"ns-1", "ns-2"}}, // an unknown namespace is not recorded
	} {
		if step.copy != "" {
			call(t, h, "POST", "/copy/"+step.copy)
		}
		_, body := call(t, h, "GET", "/copied")
		if diff := cmp.Diff(map[string]any{"copied": step.want}, body); diff != "" {
			t.Errorf("after copying %s (-want +got):\n%s", step.copy, diff)
		}
	}
	if _, body := call(t, New(testOptions()), "GET", "/copied"); len(body.(map[string]any)["copied"].([]any)) != 0 {
		t.Errorf("a new handler got copies %v; want none: state is per handler", body)
	}
}

func TestMethods(t *testing.T) {
	h := New(testOptions())
	for _, target := range []string{"GET /copy/ns-1", "POST /namespaces", "DELETE /backends/up/work"} {
		t.Run(target, func(t *testing.T) {
			method, path, _ := strings.Cut(target, " ")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
			if rec.Code != http.StatusMethodNotAllowed {
				t.Errorf("got status %d; want 405", rec.Code)
			}
		})
	}
}

// TestFailRate checks that failures follow the rate and the seed: the same
// seed fails the same requests.
func TestFailRate(t *testing.T) {
	outcomes := func(seed uint64) []int {
		h := New(Options{Backends: []Backend{{Name: "b", FailRate: 0.3}}, Seed: seed})
		codes := make([]int, 200)
		for i := range codes {
			codes[i], _ = call(t, h, "GET", "/backends/b/work")
		}
		return codes
	}
	a, b := outcomes(7), outcomes(7)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different failures (-first +second):\n%s", diff)
	}
	failed := 0
	for _, c := range a {
		if c == http.StatusInternalServerError {
			failed++
		}
	}
	if failed < 30 || failed > 90 {
		t.Errorf("got %d failures in 200 requests at rate 0.3; want about 60", failed)
	}
}

func TestLatency(t *testing.T) {
	h := New(Options{Backends: []Backend{{Name: "slow", Latency: time.Hour}}})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/backends/slow/work", nil).WithContext(ctx))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("got status %d for a request cancelled during latency; want 503", rec.Code)
		}
	})
	t.Run("served after latency", func(t *testing.T) {
		h := New(Options{Backends: []Backend{{Name: "slow", Latency: 10 * time.Millisecond}}})
		if code, _ := call(t, h, "GET", "/backends/slow/work"); code != http.StatusOK {
			t.Errorf("got status %d; want 200", code)
		}
	})
}

func TestZeroOptions(t *testing.T) {
	h := New(Options{})
	_, body := call(t, h, "GET", "/namespaces")
	if diff := cmp.Diff(map[string]any{"namespaces": []any{}}, body); diff != "" {
		t.Errorf("namespaces (-want +got):\n%s", diff)
	}
	_, body = call(t, h, "GET", "/backends")
	if diff := cmp.Diff(map[string]any{"backends": []any{}}, body); diff != "" {
		t.Errorf("backends (-want +got):\n%s", diff)
	}
}
