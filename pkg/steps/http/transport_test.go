package http

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/flowrun/flowrun/pkg/steps"
)

// TestTransportReuse runs a block's worth of items through one run's
// Resources and counts the connections the server accepts: with a pool
// sized to the workers, each worker keeps its connection.
func TestTransportReuse(t *testing.T) {
	const workers, perWorker = 50, 6
	var newConns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok": true}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	res := &steps.Resources{Workers: workers}
	t.Cleanup(func() { _ = res.Close() })
	h := &HTTP{URL: srv.URL + "/work", Expect: Expect{JSON: mustExpr("body.ok")}}

	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for i := range workers {
		wg.Go(func() {
			for j := range perWorker {
				in := &steps.Input{StepID: "load", Index: i*perWorker + j, Attempt: 1, Resources: res}
				if _, err := h.Run(t.Context(), in); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Run: %v", err)
	}
	if got := newConns.Load(); got > workers {
		t.Errorf("got %d new connections for %d requests; want at most %d, one per worker", got, workers*perWorker, workers)
	}
}

func TestTransportSizing(t *testing.T) {
	tests := []struct {
		name    string
		res     *steps.Resources
		idle    int // at least
		maxConn int // 0: no cap
	}{
		{"run with many workers", &steps.Resources{Workers: 100}, 100, 100},
		{"run with one worker", &steps.Resources{Workers: 1}, 2, 2},
		// Unknown: every connection made is kept (none is made but for a
		// request in flight).
		{"run with unknown workers", &steps.Resources{}, math.MaxInt, 0},
		{"outside a run", nil, math.MaxInt, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := transport(tt.res)
			if tr != transport(tt.res) {
				t.Errorf("got a new transport on the second call; want one per run")
			}
			// MaxIdleConns 0 is no limit.
			if tr.MaxIdleConnsPerHost < tt.idle || tr.MaxIdleConns != 0 && tr.MaxIdleConns < tt.idle || tr.DisableKeepAlives {
				t.Errorf("got MaxIdleConnsPerHost %d, MaxIdleConns %d, DisableKeepAlives %v; want at least %d and keep-alive",
					tr.MaxIdleConnsPerHost, tr.MaxIdleConns, tr.DisableKeepAlives, tt.idle)
			}
			if tr.MaxConnsPerHost != tt.maxConn {
				t.Errorf("got MaxConnsPerHost %d; want %d", tr.MaxConnsPerHost, tt.maxConn)
			}
			if tt.res != nil {
				_ = tt.res.Close()
			}
		})
	}
	if transport(&steps.Resources{}) == transport(&steps.Resources{}) {
		t.Errorf("two runs share a transport; want one each")
	}
}

// TestNoResources runs a step outside flowrun's executor, as another
// package's test might.
func TestNoResources(t *testing.T) {
	srv := newServer(t)
	out, err := (&HTTP{URL: srv.URL + "/json"}).Run(t.Context(), &steps.Input{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := out.(map[string]any)["status"]; got != 200 {
		t.Errorf("got status %v; want 200", got)
	}
	if _, err := (&HTTP{URL: srv.URL + "/json"}).Run(t.Context(), nil); err != nil {
		t.Errorf("Run with a nil Input: %v", err)
	}
}
