package examples_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/examples/demoserver/demo"
)

// serveDemo serves the demo backend on loopback for one test and returns
// its base URL, the value of the examples' `base` input.
func serveDemo(t *testing.T, opts demo.Options) string {
	t.Helper()
	srv := httptest.NewServer(demo.New(opts))
	t.Cleanup(srv.Close)
	return srv.URL
}

func init() {
	exampleTests["migrate-namespaces.yaml"] = func(t *testing.T) {
		base := serveDemo(t, demo.DefaultOptions())
		code, stdout, stderr := apply(t, "migrate-namespaces.yaml", "--set", "base="+base)
		// Six namespaces holding 120+45+300+8+72+150 items.
		want := "namespaces: 6\nitems: 695\n"
		if code != 0 || stdout != want {
			t.Errorf("exit %d, stdout:\n%s\nwant exit 0 and:\n%s\nstderr:\n%s", code, stdout, want, stderr)
		}
	}
	exampleTests["health-checks.yaml"] = func(t *testing.T) {
		t.Run("healthy", func(t *testing.T) {
			base := serveDemo(t, demo.DefaultOptions())
			code, stdout, stderr := apply(t, "health-checks.yaml", "--set", "base="+base)
			want := "healthy: [\"users\",\"orders\",\"payments\"]\nunhealthy: []\n"
			if code != 0 || stdout != want {
				t.Errorf("exit %d, stdout:\n%s\nwant exit 0 and:\n%s\nstderr:\n%s", code, stdout, want, stderr)
			}
		})
		t.Run("unhealthy", func(t *testing.T) {
			opts := demo.DefaultOptions()
			opts.Backends[0].Unhealthy, opts.Backends[2].Unhealthy = true, true
			base := serveDemo(t, opts)
			code, stdout, stderr := apply(t, "health-checks.yaml", "--set", "base="+base)
			if code != 1 || !strings.Contains(stderr, "unhealthy backends: users, payments") {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and a report naming users and payments", code, stderr)
			}
			if want := "unhealthy: [\"users\",\"payments\"]\n"; !strings.Contains(stdout, want) {
				t.Errorf("stdout:\n%s\nwant it to contain:\n%s", stdout, want)
			}
		})
	}
	exampleTests["load-test.yaml"] = func(t *testing.T) {
		base := serveDemo(t, demo.DefaultOptions())
		code, stdout, stderr := apply(t, "load-test.yaml", "--set", "base="+base, "--set", "requests=300", "-o", "json")
		if code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, stderr)
		}
		var rep struct {
			Outputs map[string]any
			Steps   []struct {
				ID      string
				Summary *struct {
					Total        int            `json:"total"`
					Succeeded    int            `json:"succeeded"`
					NotStarted   int            `json:"not_started"`
					ItemsPerSec  float64        `json:"items_per_sec"`
					P50MS        float64        `json:"p50_ms"`
					P99MS        float64        `json:"p99_ms"`
					LatencyP50MS float64        `json:"latency_p50_ms"`
					LatencyP99MS float64        `json:"latency_p99_ms"`
					RateAsked    float64        `json:"rate_asked_per_sec"`
					StatusCodes  map[string]int `json:"status_codes"`
				}
			}
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("the report is not JSON: %v\n%s", err, stdout)
		}
		load := rep.Steps[0].Summary
		if rep.Steps[0].ID != "load" || load == nil || load.Total != 300 || load.Succeeded != 300 || load.NotStarted != 0 || load.ItemsPerSec <= 0 || load.P99MS < load.P50MS {
			t.Fatalf("load summary %+v; want 300 requests that succeeded, a rate and ordered percentiles", load)
		}
		// An open model: latency from when each request was due is never
		// below the service time.
		if load.RateAsked != 500 || load.LatencyP50MS < load.P50MS || load.LatencyP99MS < load.P99MS || load.StatusCodes["200"] != 300 {
			t.Errorf("load summary %+v; want the rate asked, latency at least the service time, 300 responses 200", load)
		}
		if got := rep.Outputs["requests"]; got != 300.0 {
			t.Errorf("outputs.requests = %v; want 300", got)
		}
	}
}
