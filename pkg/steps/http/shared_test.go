package http

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/flowrun/flowrun/pkg/steps"
)

// The items of a block share one validated HTTP value: its request
// headers, client and last headers output. These tests run it as a block
// does, many items at once (go test -race watches the sharing).

// TestItemsShareRequestHeaders: a redirect that drops the step's headers
// for another origin drops them from that request only, never from the
// headers the next items send.
func TestItemsShareRequestHeaders(t *testing.T) {
	other := &recorder{}
	otherSrv := httptest.NewServer(other)
	defer otherSrv.Close()
	first := &recorder{next: otherSrv.URL + "/end"}
	firstSrv := httptest.NewServer(first)
	defer firstSrv.Close()

	h := &HTTP{URL: firstSrv.URL + "/start", Headers: map[string]any{"X-Api-Key": "s3cret"}, FollowRedirects: RedirectAny}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	runItems(t, h, 40, 8)
	for i, hd := range first.requests() {
		if hd.Get("X-Api-Key") != "s3cret" {
			t.Fatalf("request %d to the first origin has X-Api-Key %q; want s3cret", i, hd.Get("X-Api-Key"))
		}
	}
	for i, hd := range other.requests() {
		if hd.Get("X-Api-Key") != "" {
			t.Fatalf("request %d to the other origin has X-Api-Key %q; want none", i, hd.Get("X-Api-Key"))
		}
	}
	if n := len(first.requests()); n != 40 {
		t.Errorf("the first origin got %d requests; want 40", n)
	}
}

// TestHeadersOutputIsEachResponses: each item's headers output holds its
// own response's headers, whether or not they equal the previous ones.
func TestHeadersOutputIsEachResponses(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every third response differs from the others.
		i := n.Add(1)
		v := "same"
		if i%3 == 0 {
			v = strconv.FormatInt(i, 10)
		}
		w.Header().Set("X-Value", v)
		w.Header().Set("X-Echo", r.URL.Query().Get("v"))
		_, _ = w.Write([]byte(v))
	}))
	defer srv.Close()
	h := &HTTP{URL: srv.URL + "/?v=1"}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, out := range runItems(t, h, 300, 8) {
		headers := out["headers"].(map[string]any)
		if headers["X-Value"] != out["body"] || headers["X-Echo"] != "1" {
			t.Fatalf("headers %v for the body %q; want X-Value %[2]q and X-Echo 1", headers, out["body"])
		}
	}
}

// runItems runs n items of h from workers goroutines, with one run's
// Resources, and returns their outputs.
func runItems(t *testing.T, h *HTTP, n, workers int) []map[string]any {
	t.Helper()
	res := &steps.Resources{Workers: workers}
	defer res.Close()
	outs := make([]map[string]any, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				out, err := h.Run(t.Context(), &steps.Input{StepID: "call", Index: i, Attempt: 1, Resources: res})
				if err != nil {
					t.Errorf("item %d: %v", i, err)
					return
				}
				outs[i] = out.(map[string]any)
			}
		})
	}
	wg.Wait()
	return outs
}
