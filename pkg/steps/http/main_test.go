package http

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/flowrun/flowrun/pkg/steps"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// seen is what the /echo endpoint reports about the request it received.
type seen struct {
	Method string              `json:"method"`
	Path   string              `json:"path"`
	Query  map[string][]string `json:"query"`
	Header map[string][]string `json:"header"`
	Host   string              `json:"host"`
	Body   string              `json:"body"`
}

// newServer starts a loopback server with the endpoints the tests use. Its
// hanging endpoints return when the client goes away or the test ends.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	done := make(chan struct{})
	hang := func(r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		writeJSON(w, http.StatusOK, seen{r.Method, r.URL.Path, r.URL.Query(), r.Header, r.Host, string(body)})
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.WriteHeader(code)
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Multi", "first")
		w.Header().Add("X-Multi", "second")
		writeJSON(w, http.StatusOK, map[string]any{"items": 3, "name": "demo"})
	})
	mux.HandleFunc("/problem", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusConflict)
		fmt.Fprint(w, `{"title": "namespace is being copied"}`)
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "hello flowrun")
	})
	mux.HandleFunc("/bad-json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, "<html>oops</html>")
	})
	mux.HandleFunc("/empty-json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/json", http.StatusFound)
	})
	mux.HandleFunc("/big/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		fmt.Fprint(w, strings.Repeat("x", n))
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		hang(r)
	})
	mux.HandleFunc("/stall", func(w http.ResponseWriter, r *http.Request) {
		// Headers and part of the body, then nothing.
		w.Header().Set("Content-Length", "100")
		fmt.Fprint(w, "partial")
		w.(http.Flusher).Flush()
		hang(r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // runs first: unblocks handlers so Close can return
	return srv
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// run runs h once with its own Resources, closed when the test ends.
func run(t *testing.T, ctx context.Context, h *HTTP) (map[string]any, error) {
	t.Helper()
	res := &steps.Resources{Workers: 4}
	t.Cleanup(func() { _ = res.Close() })
	out, err := h.Run(ctx, &steps.Input{StepID: "call", Index: -1, Attempt: 1, Resources: res})
	if err != nil {
		if out != nil {
			t.Errorf("Run returned output %v with error %v; want nil output", out, err)
		}
		return nil, err
	}
	m, ok := out.(map[string]any)
	if !ok {
		t.Fatalf("Run output is %T; want map[string]any", out)
	}
	return m, nil
}

func ptr[T any](v T) *T { return &v }
