// Command demoserver serves the demo backend that flowrun's examples run
// against (see package demo for its API), on a loopback address only.
//
//	go run ./examples/demoserver -latency 20ms -fail-rate 0.05 -unhealthy payments
//
// It stops gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/flowrun/flowrun/examples/demoserver/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "demoserver:", err)
		os.Exit(2)
	}
}

// run parses the flags, serves until ctx is done and then shuts down,
// letting requests in flight finish.
func run(ctx context.Context, args []string, log io.Writer) error {
	fs := flag.NewFlagSet("demoserver", flag.ContinueOnError)
	fs.SetOutput(log)
	addr := fs.String("addr", "127.0.0.1:8080", "`address` to listen on; must be loopback")
	latency := fs.Duration("latency", 0, "latency of every backend's /work responses")
	failRate := fs.Float64("fail-rate", 0, "fraction of /work requests that fail with 500, from 0 to 1")
	unhealthy := fs.String("unhealthy", "", "comma-separated `backends` whose health check answers 503")
	seed := fs.Uint64("seed", 1, "seed for failure injection")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := checkLoopback(*addr); err != nil {
		return err
	}
	opts, err := options(*latency, *failRate, *unhealthy, *seed)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           demo.New(opts),
		ReadHeaderTimeout: 5 * time.Second,
		// Requests see ctx end, so a long -latency does not hold up the
		// shutdown.
		BaseContext: func(net.Listener) context.Context { return ctx },
	}
	fmt.Fprintf(log, "demoserver: serving on http://%s\n", ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// checkLoopback refuses an address that other machines could reach: the
// demo server has no authentication and records whatever it is sent.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %v", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-addr %q: not a loopback address; use 127.0.0.1, [::1] or localhost", addr)
}

// options builds the demo's Options from the flags, on top of the
// default namespaces and backends.
func options(latency time.Duration, failRate float64, unhealthy string, seed uint64) (demo.Options, error) {
	opts := demo.DefaultOptions()
	opts.Seed = seed
	if latency < 0 {
		return opts, fmt.Errorf("-latency %v is negative", latency)
	}
	if !(failRate >= 0 && failRate <= 1) {
		return opts, fmt.Errorf("-fail-rate %v: want a fraction from 0 to 1", failRate)
	}
	names := make([]string, len(opts.Backends))
	for i := range opts.Backends {
		opts.Backends[i].Latency = latency
		opts.Backends[i].FailRate = failRate
		names[i] = opts.Backends[i].Name
	}
	for _, name := range strings.Split(unhealthy, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		i := slices.Index(names, name)
		if i < 0 {
			return opts, fmt.Errorf("-unhealthy: unknown backend %q; the backends are %s", name, strings.Join(names, ", "))
		}
		opts.Backends[i].Unhealthy = true
	}
	return opts, nil
}
