package exec

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/flowrun/flowrun/pkg/spec"
	_ "github.com/flowrun/flowrun/pkg/steps/http"
)

const (
	httpRequests = 20_000
	httpWorkers  = 50
)

// BenchmarkHTTPBlock sends 20,000 GETs from 50 workers to a loopback
// server twice per iteration: through a flowrun parallel block of http
// items, and through a hand-written client (net/http, an errgroup of 50
// workers, a transport keeping 50 connections, each response read and
// decoded as JSON, as the http step does). Both run in the same iteration,
// against the same server, so the ratio is what it costs to write the load
// as a workflow instead of a Go program:
//
//	go test ./pkg/exec -run '^$' -bench HTTPBlock -benchtime 3x
func BenchmarkHTTPBlock(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true,"n":1}`)
	}))
	defer srv.Close()
	wf, ds := spec.Parse("bench.yaml", []byte(fmt.Sprintf(`
version: 1
steps:
  - id: load
    parallel: {items: "${{ 1..%d }}", workers: %d}
    http: %s/work
`, httpRequests, httpWorkers, srv.URL)), spec.Options{})
	if ds.HasErrors() {
		b.Fatalf("workflow does not load:\n%v", ds)
	}

	var flowrun, hand time.Duration
	ratios := make([]float64, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		// Alternate which goes first, so neither always meets a warm
		// server or a collector that the other one left busy.
		var f, h time.Duration
		runs := []func(){
			func() { f = timeIt(func() { benchFlowrun(b, wf) }) },
			func() { h = timeIt(func() { benchHandWritten(b, srv.URL+"/work") }) },
		}
		if i%2 == 1 {
			runs[0], runs[1] = runs[1], runs[0]
		}
		for _, run := range runs {
			run()
		}
		flowrun, hand = flowrun+f, hand+h
		ratios = append(ratios, h.Seconds()/f.Seconds())
	}
	total := float64(b.N * httpRequests)
	b.ReportMetric(total/flowrun.Seconds(), "flowrun-req/s")
	b.ReportMetric(total/hand.Seconds(), "handwritten-req/s")
	// The median of the per-iteration ratios: on a busy machine one slow
	// pass weighs on one iteration only, not on the whole comparison.
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "ratio")
	b.ReportMetric(0, "ns/op")
}

func timeIt(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

func benchFlowrun(b *testing.B, wf *spec.Workflow) {
	rep := Run(context.Background(), wf, Options{})
	if s := rep.Step("load").Summary; s == nil || s.Succeeded != httpRequests {
		b.Fatalf("load: %s %s, summary %+v; want %d requests that succeeded", rep.Status, rep.Error, s, httpRequests)
	}
}

// benchHandWritten is the client a Go programmer would write for the same
// job, with a fresh transport per run as flowrun has per run.
func benchHandWritten(b *testing.B, url string) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = httpWorkers, httpWorkers
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	results := make([]map[string]any, httpRequests)
	var next atomic.Int64
	g, ctx := errgroup.WithContext(context.Background())
	for range httpWorkers {
		g.Go(func() error {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= httpRequests {
					return nil
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if err != nil {
					return err
				}
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				body, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
				resp.Body.Close()
				if err != nil {
					return err
				}
				if resp.StatusCode/100 != 2 {
					return fmt.Errorf("status %d", resp.StatusCode)
				}
				var v map[string]any
				if err := json.Unmarshal(body, &v); err != nil {
					return err
				}
				results[i] = v
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}
