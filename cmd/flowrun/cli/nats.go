package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/flowrun/flowrun/pkg/cluster"
	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/spec"
)

// natsFlags say how to reach a NATS server, as the NATS CLI takes them: a
// URL that may hold user:password@, a credentials file, a CA for TLS.
type natsFlags struct {
	Creds string `name:"nats-creds" env:"FLOWRUN_NATS_CREDS" placeholder:"FILE" help:"NATS credentials file (JWT and NKey seed), as the NATS CLI's --creds."`
	TLSCA string `name:"nats-tls-ca" env:"FLOWRUN_NATS_TLS_CA" placeholder:"FILE" help:"CA certificate(s) to verify the NATS server's TLS certificate, as the NATS CLI's --tlsca."`
}

// options are the client options the flags give, or the error of a
// flag that cannot work (a CA file without a certificate).
func (f natsFlags) options(name string) ([]nats.Option, error) {
	opts := []nats.Option{nats.Name(name)}
	if f.Creds != "" {
		opts = append(opts, nats.UserCredentials(f.Creds))
	}
	if f.TLSCA != "" {
		o, err := f.tlsOption()
		if err != nil {
			return nil, err
		}
		opts = append(opts, o)
	}
	return opts, nil
}

// applyNATS are apply's flags for sending parallel blocks to workers.
type applyNATS struct {
	NATS       string        `name:"nats" env:"FLOWRUN_NATS" placeholder:"URL|embed" help:"Run parallel blocks' items on flowrun workers through this NATS server (nats://[user:pass@]host:port); embed starts one in this process, for workers to join at --nats-listen."`
	Listen     string        `name:"nats-listen" env:"FLOWRUN_NATS_LISTEN" default:"127.0.0.1:4222" placeholder:"HOST:PORT" help:"Where the embedded server (--nats embed) listens for workers."`
	AckWait    time.Duration `name:"nats-ack-wait" default:"30s" help:"How long a worker may go silent (it heartbeats every third of it) before its items are run elsewhere."`
	MaxDeliver int           `name:"nats-max-deliver" default:"5" help:"Deliveries of an item before it fails because no worker finished it."`
	natsFlags  `embed:""`
}

// clusterConn is apply's connection to a cluster: the Coordinator that
// the run uses as its Dispatcher, and what close releases.
type clusterConn struct {
	coord      *cluster.Coordinator
	nc         *nats.Conn
	server     *cluster.Server
	store      string
	manifest   []byte
	ackWait    time.Duration
	maxDeliver int
}

// connect opens the cluster the flags name, or returns nil without
// --nats. The embedded server keeps its store in a temporary directory:
// what it holds is of no use once this process is gone, since a resumed
// run dispatches its blocks afresh.
func (f applyNATS) connect(stderr io.Writer, wf *spec.Workflow, inputs map[string]any, maxParsed int64) (*clusterConn, error) {
	if f.NATS == "" {
		return nil, nil
	}
	if f.AckWait < 100*time.Millisecond {
		return nil, fmt.Errorf("--nats-ack-wait must be at least 100ms, got %s", f.AckWait)
	}
	if f.MaxDeliver < 1 {
		return nil, fmt.Errorf("--nats-max-deliver must be at least 1, got %d", f.MaxDeliver)
	}
	if f.NATS == "embed" && (f.TLSCA != "" || f.Creds != "") {
		// Silently plain text where TLS was asked for would be worse.
		return nil, errors.New("--nats embed serves plain nats:// without accounts: --nats-tls-ca and --nats-creds are for a server of your own (--nats URL)")
	}
	c := &clusterConn{ackWait: f.AckWait, maxDeliver: f.MaxDeliver}
	var err error
	if f.NATS == "embed" {
		if c.store, err = os.MkdirTemp("", "flowrun-nats-"); err != nil {
			return nil, fmt.Errorf("--nats embed: %w", err)
		}
		if c.server, err = cluster.StartServer(cluster.ServerOptions{StoreDir: c.store, Listen: f.Listen}); err != nil {
			c.close()
			return nil, fmt.Errorf("--nats embed: %w", err)
		}
		fmt.Fprintf(stderr, "flowrun: NATS server for workers at %s: flowrun worker --nats %s\n", c.server.ClientURL(), c.server.ClientURL())
		c.nc, err = c.server.Connect(nats.Name("flowrun apply"))
	} else {
		var opts []nats.Option
		if opts, err = f.options("flowrun apply"); err == nil {
			c.nc, err = nats.Connect(f.NATS, opts...)
		}
	}
	if err != nil {
		c.close()
		return nil, f.connError(f.NATS, err)
	}
	if c.manifest, err = cluster.NewManifest(wf, inputs, maxParsed); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// options makes the run send its blocks to the cluster, telling obs when
// items are sent and when no worker takes them.
func (c *clusterConn) options(o *exec.Options, obs *observer) {
	if c == nil {
		return
	}
	c.coord = cluster.NewCoordinator(c.nc, c.manifest, cluster.CoordinatorOptions{
		AckWait: c.ackWait, MaxDeliver: c.maxDeliver,
		OnWaiting: obs.Waiting, OnSent: obs.ItemStarted,
	})
	o.Dispatcher = c.coord
}

// close removes the run from the cluster and disconnects; the embedded
// server stops and its store goes.
func (c *clusterConn) close() error {
	if c == nil {
		return nil
	}
	var errs []error
	if c.coord != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, c.coord.Close(ctx))
		cancel()
	}
	if c.nc != nil {
		c.nc.Close()
	}
	if c.server != nil {
		c.server.Shutdown()
	}
	if c.store != "" {
		errs = append(errs, os.RemoveAll(c.store))
	}
	return errors.Join(errs...)
}

// redactURL hides the password of server URLs (comma-separated, as
// nats.Connect takes them) in what flowrun writes.
func redactURL(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}
