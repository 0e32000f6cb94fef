package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/flowrun/flowrun/examples/demoserver/demo"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{"127.0.0.2:0", true},
		{"[::1]:8080", true},
		{"localhost:8080", true},
		{"0.0.0.0:8080", false},
		{":8080", false},
		{"[::]:8080", false},
		{"192.168.1.10:8080", false},
		{"example.com:8080", false},
		{"127.0.0.1", false}, // no port
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := checkLoopback(tt.addr)
			if (err == nil) != tt.ok {
				t.Errorf("got %v; want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestRunRefuses(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-addr", "0.0.0.0:8080"}, `-addr "0.0.0.0:8080": not a loopback address`},
		{[]string{"-addr", ":8080"}, `-addr ":8080": not a loopback address`},
		{[]string{"-fail-rate", "1.5"}, "-fail-rate 1.5: want a fraction from 0 to 1"},
		{[]string{"-latency", "-1s"}, "-latency -1s is negative"},
		{[]string{"-unhealthy", "users,billing"}, `-unhealthy: unknown backend "billing"; the backends are users, orders, payments`},
		{[]string{"extra"}, `unexpected arguments ["extra"]`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			err := run(t.Context(), tt.args, io.Discard)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got %v; want an error starting %s", err, tt.want)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	opts, err := options(20*time.Millisecond, 0.25, "payments, users", 9)
	if err != nil {
		t.Fatal(err)
	}
	want := demo.DefaultOptions()
	want.Seed = 9
	for i := range want.Backends {
		want.Backends[i].Latency = 20 * time.Millisecond
		want.Backends[i].FailRate = 0.25
		want.Backends[i].Unhealthy = want.Backends[i].Name != "orders"
	}
	if diff := cmp.Diff(want, opts); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
}

// TestServe runs the command on a free loopback port, makes a request and
// stops it as a signal would.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	logr, logw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-unhealthy", "orders"}, logw)
		logw.Close()
	}()
	line, err := bufio.NewReader(logr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the log: %v", err)
	}
	go io.Copy(io.Discard, logr)
	url := strings.TrimSpace(strings.TrimPrefix(line, "demoserver: serving on "))

	client := &http.Client{Transport: &http.Transport{}}
	resp, err := client.Get(url + "/backends/orders/health")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	client.CloseIdleConnections()
	if resp.StatusCode != http.StatusServiceUnavailable || body["healthy"] != false {
		t.Errorf("got %d %v; want 503 and healthy false", resp.StatusCode, body)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after shutdown: %v", err)
	}
}
