package demo

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Options configures a demo backend. The zero value serves no namespaces
// and no backends; DefaultOptions has a few of each.
type Options struct {
	// Namespaces are listed by /namespaces and copied by /copy/{ns}.
	Namespaces []Namespace
	// Backends are health-checked and load-tested under /backends.
	Backends []Backend
	// Seed seeds the random source behind failure injection, so a run
	// with the same requests in the same order fails the same ones.
	Seed uint64
}

// Namespace is a namespace to migrate.
type Namespace struct {
	Name  string `json:"name"`
	Items int    `json:"items"`
}

// Backend is a service behind /backends/{name}.
type Backend struct {
	Name string
	// Latency delays every /work response.
	Latency time.Duration
	// FailRate is the fraction of /work requests, from 0 to 1, that fail
	// with 500.
	FailRate float64
	// Unhealthy makes /health and /work answer 503.
	Unhealthy bool
}

// DefaultOptions returns the data that the examples expect: six namespaces
// and three healthy backends with no latency and no failures.
func DefaultOptions() Options {
	return Options{
		Namespaces: []Namespace{
			{"ns-1", 120}, {"ns-2", 45}, {"ns-3", 300},
			{"ns-4", 8}, {"ns-5", 72}, {"ns-6", 150},
		},
		Backends: []Backend{{Name: "users"}, {Name: "orders"}, {Name: "payments"}},
		Seed:     1,
	}
}

// server holds one handler's state; the mutex guards copied and rng.
type server struct {
	opts     Options
	items    map[string]int
	backends map[string]Backend

	mu     sync.Mutex
	copied map[string]bool
	rng    *rand.Rand
}

// New returns the demo backend's handler. Options are copied; changing
// them afterwards has no effect. It is safe for concurrent use.
func New(opts Options) http.Handler {
	s := &server{
		opts:     Options{Namespaces: slices.Clone(opts.Namespaces), Backends: slices.Clone(opts.Backends)},
		items:    make(map[string]int),
		backends: make(map[string]Backend),
		copied:   make(map[string]bool),
		rng:      rand.New(rand.NewPCG(opts.Seed, opts.Seed)),
	}
	for _, ns := range opts.Namespaces {
		s.items[ns.Name] = ns.Items
	}
	for _, b := range opts.Backends {
		s.backends[b.Name] = b
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /namespaces", s.namespaces)
	mux.HandleFunc("POST /copy/{ns}", s.copy)
	mux.HandleFunc("GET /copied", s.listCopied)
	mux.HandleFunc("GET /backends", s.listBackends)
	mux.HandleFunc("GET /backends/{name}/health", s.health)
	mux.HandleFunc("GET /backends/{name}/work", s.work)
	return mux
}

func (s *server) namespaces(w http.ResponseWriter, r *http.Request) {
	list := s.opts.Namespaces
	if list == nil {
		list = []Namespace{}
	}
	reply(w, http.StatusOK, map[string]any{"namespaces": list})
}

func (s *server) copy(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("ns")
	n, ok := s.items[name]
	if !ok {
		fail(w, http.StatusNotFound, "unknown namespace %q", name)
		return
	}
	s.mu.Lock()
	s.copied[name] = true
	s.mu.Unlock()
	reply(w, http.StatusOK, map[string]any{"namespace": name, "copied": n})
}

func (s *server) listCopied(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	names := make([]string, 0, len(s.copied))
	for name := range s.copied {
		names = append(names, name)
	}
	s.mu.Unlock()
	slices.Sort(names)
	reply(w, http.StatusOK, map[string]any{"copied": names})
}

func (s *server) listBackends(w http.ResponseWriter, r *http.Request) {
	names := make([]string, len(s.opts.Backends))
	for i, b := range s.opts.Backends {
		names[i] = b.Name
	}
	reply(w, http.StatusOK, map[string]any{"backends": names})
}

// backend finds the backend named in the path, answering 404 when there is
// none.
func (s *server) backend(w http.ResponseWriter, r *http.Request) (Backend, bool) {
	b, ok := s.backends[r.PathValue("name")]
	if !ok {
		fail(w, http.StatusNotFound, "unknown backend %q", r.PathValue("name"))
	}
	return b, ok
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	b, ok := s.backend(w, r)
	if !ok {
		return
	}
	code := http.StatusOK
	if b.Unhealthy {
		code = http.StatusServiceUnavailable
	}
	reply(w, code, map[string]any{"backend": b.Name, "healthy": !b.Unhealthy})
}

// work stands for a request that does some work: it waits for the
// backend's latency, fails at its rate, and otherwise returns n squared.
func (s *server) work(w http.ResponseWriter, r *http.Request) {
	b, ok := s.backend(w, r)
	if !ok {
		return
	}
	n := 1
	if q := r.URL.Query().Get("n"); q != "" {
		v, err := strconv.Atoi(q)
		if err != nil || v < 0 || v > 1_000_000 {
			fail(w, http.StatusBadRequest, "n=%q: want a whole number from 0 to 1000000", q)
			return
		}
		n = v
	}
	if b.Unhealthy {
		fail(w, http.StatusServiceUnavailable, "backend %q is unhealthy", b.Name)
		return
	}
	if b.Latency > 0 {
		t := time.NewTimer(b.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			// The client gave up or the server is shutting down.
			fail(w, http.StatusServiceUnavailable, "request cancelled")
			return
		}
	}
	s.mu.Lock()
	failed := s.rng.Float64() < b.FailRate
	s.mu.Unlock()
	if failed {
		fail(w, http.StatusInternalServerError, "injected failure in backend %q", b.Name)
		return
	}
	reply(w, http.StatusOK, map[string]any{"backend": b.Name, "n": n, "result": n * n})
}

func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code int, format string, args ...any) {
	reply(w, code, map[string]any{"error": fmt.Sprintf(format, args...)})
}
