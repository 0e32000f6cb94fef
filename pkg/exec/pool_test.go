package exec

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowrun/flowrun/pkg/spec"
	_ "github.com/flowrun/flowrun/pkg/steps/basic"
)

// latencyServer answers every request after delay and counts the
// connections it accepted.
func latencyServer(t *testing.T, delay time.Duration) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// TestConnectionPoolFollowsWorkers: an http block's requests never wait
// for a connection, however its workers: is written. Items measure the
// time to a response, so a block throttled by its connection pool shows a
// p50 that is a multiple of the server's latency. (Before, an expression
// counted as the run's default worker count: 20 workers shared 2
// connections and the p50 was ten times the server's latency.)
func TestConnectionPoolFollowsWorkers(t *testing.T) {
	const latency = 20 * time.Millisecond
	srv, _ := latencyServer(t, latency)
	tests := []struct {
		name, parallel string
		workers        int // Options.Workers, as --workers sets it
	}{
		{"literal", "workers: 20", 1},
		{"expression of an input", `workers: "${{ inputs.w }}"`, 1},
		{"expression of the env", `workers: "${{ int(env.W) }}"`, 1},
		{"expression of a step's output", `workers: "${{ steps.cfg.output.w }}"`, 1},
		{"--workers", "", 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := loadHTTP(t, fmt.Sprintf(`
version: 1
inputs: {w: {type: integer, default: 20}}
env: {W: "20"}
steps:
  - id: cfg
    set: {w: 20}
  - id: load
    needs: [cfg]
    parallel: {items: "${{ 1..200 }}", %s}
    http: %s/work
`, tt.parallel, srv.URL))
			inputs, err := wf.ResolveInputs(nil)
			if err != nil {
				t.Fatal(err)
			}
			rep := Run(context.Background(), wf, Options{Inputs: inputs, Workers: tt.workers})
			s := rep.Step("load").Summary
			if rep.Status != Succeeded || s == nil {
				t.Fatalf("run %s: %s", rep.Status, rep.Error)
			}
			if s.Workers != 20 {
				t.Fatalf("the block ran %d workers; want 20", s.Workers)
			}
			if limit := 2 * ms(latency); s.P50MS > limit {
				t.Errorf("p50 %.1fms against a server that answers in %.0fms; want at most %.0fms: requests waited for a connection", s.P50MS, ms(latency), limit)
			}
		})
	}
}

// TestConnectionPoolKeepsEveryWorkersConnection: blocks whose worker
// count is known only when they start (here more than net/http's default
// idle pool of 100) get a connection per worker, and keep them between
// blocks instead of closing what is idle and dialing again.
func TestConnectionPoolKeepsEveryWorkersConnection(t *testing.T) {
	const latency = 20 * time.Millisecond
	srv, conns := latencyServer(t, latency)
	const workers = 150
	// Three blocks of one round each, a pause between them so that every
	// connection is back in the pool when the next block starts.
	wf := loadHTTP(t, fmt.Sprintf(`
version: 1
steps:
  - id: cfg
    set: {w: %[1]d}
  - id: first
    parallel: {items: "${{ 1..%[1]d }}", workers: "${{ steps.cfg.output.w }}"}
    http: %[2]s/work
  - {id: pause1, needs: [first], sleep: 200ms}
  - id: second
    needs: [pause1]
    parallel: {items: "${{ 1..%[1]d }}", workers: "${{ steps.cfg.output.w }}"}
    http: %[2]s/work
  - {id: pause2, needs: [second], sleep: 200ms}
  - id: third
    needs: [pause2]
    parallel: {items: "${{ 1..%[1]d }}", workers: "${{ steps.cfg.output.w }}"}
    http: %[2]s/work
`, workers, srv.URL))
	rep := Run(context.Background(), wf, Options{})
	if rep.Status != Succeeded {
		t.Fatalf("run %s: %s", rep.Status, rep.Error)
	}
	// A pool capped below the workers (the run's default count) makes
	// them share a few connections.
	if n := conns.Load(); n < workers/2 {
		t.Errorf("%d connections for %d workers; want each worker to have its own", n, workers)
	}
	// A pool that closes what it cannot keep idle dials 50 again for
	// each block after the first.
	t.Logf("%d connections", conns.Load())
	if n := conns.Load(); n > workers+workers/6 {
		t.Errorf("%d connections for three blocks of %d workers; want at most %d", n, workers, workers+workers/6)
	}
}

func loadHTTP(t *testing.T, src string) *spec.Workflow {
	t.Helper()
	wf, ds := spec.Parse("test.yaml", []byte(src), spec.Options{})
	if ds.HasErrors() {
		t.Fatalf("workflow does not load:\n%v", ds)
	}
	return wf
}
