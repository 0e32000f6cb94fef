package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flowrun/flowrun/internal/term"
	"github.com/flowrun/flowrun/pkg/cluster"
)

// WorkerCmd runs items of parallel blocks for runs started with apply
// --nats.
type WorkerCmd struct {
	NATS    string        `name:"nats" env:"FLOWRUN_NATS" required:"" placeholder:"URL" help:"NATS server of the cluster (nats://[user:pass@]host:port)."`
	Slots   int           `name:"slots" env:"FLOWRUN_SLOTS" help:"Most items run at once (default: the number of CPUs)."`
	Name    string        `name:"name" env:"FLOWRUN_WORKER_NAME" help:"Name of this worker in results and errors (default: host:pid)."`
	Dir     string        `name:"dir" placeholder:"DIR" type:"existingdir" help:"Directory items run in (default: the workflow's directory when it exists on this machine, else the current directory)."`
	Grace   time.Duration `name:"grace" default:"30s" help:"On the first SIGTERM or SIGINT, how long running items may take to finish before they are cancelled and handed back."`
	Verbose bool          `short:"v" help:"Also stream the output of every item, not only the last lines of failed ones."`

	natsFlags `embed:""`
}

// Help explains what a worker does.
func (WorkerCmd) Help() string {
	return `A worker takes items of parallel blocks from the cluster, for any run
started with 'flowrun apply --nats', and runs them with this flowrun's
step types: a custom flowrun's worker runs its own. It runs until
stopped: the first SIGTERM or SIGINT starts nothing new, hands back the
items not started, lets running items finish within --grace, then cancels
and hands back the rest, and exits 0; a second signal exits at once. When
the server goes away (a 'flowrun apply --nats embed' ended) the worker
waits for it to come back.

Whoever can publish to the cluster can run commands on its workers: see
the README's Running across machines.

Examples:
  flowrun worker --nats nats://127.0.0.1:4222
  flowrun worker --nats nats://ci:secret@queue.internal:4222 --slots 16 --name build-7
  flowrun worker --nats tls://queue.internal:4222 --nats-creds worker.creds --nats-tls-ca ca.pem`
}

// Run works until a signal.
func (c *WorkerCmd) Run(e *env) error {
	slots := c.Slots
	if slots == 0 {
		slots = runtime.NumCPU()
	}
	if slots < 1 {
		fmt.Fprintf(e.stderr, "flowrun: --slots must be at least 1, got %d\n", slots)
		return exitError{ExitInvalid}
	}
	name := c.Name
	if name == "" {
		host, _ := os.Hostname()
		name = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	opts, err := c.options("flowrun worker " + name)
	if err != nil {
		fmt.Fprintf(e.stderr, "flowrun: %v\n", err)
		return exitError{ExitInvalid}
	}
	opts = append(opts, nats.NoReconnect())
	stderr := &lockedWriter{w: term.NewWriter(e.stderr)} // whole lines: nothing held
	logf := func(format string, args ...any) {
		fmt.Fprintf(stderr, "flowrun worker %s: %s\n", name, fmt.Sprintf(format, args...))
	}
	ctx, kill, stop := workerSignals(logf)
	defer stop()
	h := &cluster.ItemHandler{Name: name, Dir: c.Dir, Log: stderr, Verbose: c.Verbose, Logf: logf, Kill: kill, Slots: slots}
	defer h.Close()
	w := &cluster.Worker{Name: name, Slots: slots, Handler: h.Handle, Grace: c.Grace, Logf: logf}
	waiting := false
	for ctx.Err() == nil {
		nc, err := nats.Connect(c.NATS, opts...)
		if err != nil {
			if permanent(err) {
				fmt.Fprintf(e.stderr, "flowrun: %v\n", c.connError(c.NATS, err))
				return exitError{ExitInvalid}
			}
			if !waiting {
				logf("waiting for the cluster at %s (%v)", redactURL(c.NATS), err)
				waiting = true
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		waiting = false
		logf("connected to %s, %d slots", nc.ConnectedUrlRedacted(), slots)
		err = w.Run(ctx, nc)
		nc.Close()
		if err != nil && ctx.Err() == nil {
			logf("lost the cluster (%v); reconnecting", err)
		}
	}
	logf("stopped")
	return nil
}

// permanent reports a connection error that waiting will not cure.
func permanent(err error) bool {
	return errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) ||
		errors.Is(err, errCAFile) || errors.Is(err, nats.ErrSecureConnWanted) ||
		strings.Contains(err.Error(), "Authorization Violation") || strings.Contains(err.Error(), "tls:") ||
		strings.Contains(err.Error(), "x509:") || errors.Is(err, os.ErrNotExist)
}

// workerSignals returns a context cancelled by the first SIGINT or SIGTERM
// (drain) and a channel closed by the second, which also exits the
// process at once: children stop with it (their parent-death signal) and
// the items it held are run elsewhere after their ack wait.
func workerSignals(logf func(string, ...any)) (context.Context, <-chan struct{}, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	kill := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			logf("%s: draining: starting nothing new, finishing running items (again to stop at once)", sig)
			cancel()
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			logf("%s again: stopping at once", sig)
			close(kill)
			os.Exit(ExitInterrupted)
		case <-done:
		}
	}()
	return ctx, kill, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// lockedWriter serialises writes from many goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
