// Command httpclient is the load generator a Go programmer would write by
// hand, the baseline that bench/compare.sh holds flowrun's http blocks
// against: -n GETs of one URL from -workers goroutines over one keep-alive
// transport, each response's status checked, its body read and decoded as
// JSON (as flowrun's http step does), each latency kept for the
// percentiles printed at the end.
//
//	go run ./bench/httpclient -url http://127.0.0.1:8080/backends/users/work -n 40000 -workers 50
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

func main() {
	url := flag.String("url", "", "the `URL` to GET")
	n := flag.Int("n", 40000, "requests to send")
	workers := flag.Int("workers", 50, "requests in flight at once")
	flag.Parse()
	if *url == "" || *n < 1 || *workers < 1 {
		flag.Usage()
		os.Exit(2)
	}
	start := time.Now()
	lat, err := run(context.Background(), *url, *n, *workers)
	elapsed := time.Since(start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "httpclient:", err)
		os.Exit(1)
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[max(int(p/100*float64(len(lat))+0.5), 1)-1] }
	fmt.Printf("%d requests in %.3fs: %.0f req/s, p50 %v, p99 %v\n", len(lat), elapsed.Seconds(),
		float64(len(lat))/elapsed.Seconds(), pct(50), pct(99))
}

// run sends n requests from workers goroutines and returns their
// latencies; the first failure stops it.
func run(ctx context.Context, url string, n, workers int) ([]time.Duration, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = workers, workers
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	lat := make([]time.Duration, n)
	var next atomic.Int64
	g, ctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return nil
				}
				start := time.Now()
				if err := get(ctx, client, url); err != nil {
					return err
				}
				lat[i] = time.Since(start)
			}
			return nil
		})
	}
	return lat, g.Wait()
}

func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return errors.New(resp.Status)
	}
	var v any
	return json.Unmarshal(body, &v)
}
