package cluster

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// ServerOptions configure an embedded NATS server with JetStream.
type ServerOptions struct {
	// StoreDir is where JetStream keeps streams, consumers and buckets.
	// Required: an embedded server never writes to a default location.
	StoreDir string
	// Listen is a host:port for workers on other machines to connect to
	// (e.g. "127.0.0.1:4222"; port 0 picks a free one). Empty means in-process
	// only: no socket is opened and only Connect reaches the server.
	Listen string
	// Ready bounds the wait for the server to accept connections
	// (default 10 s).
	Ready time.Duration
}

// Server is a NATS server with JetStream running inside this process.
type Server struct {
	ns *server.Server
}

// StartServer starts an embedded NATS server with JetStream enabled and
// returns once it accepts connections, or an error saying why it did not.
// The caller must call Shutdown.
func StartServer(o ServerOptions) (*Server, error) {
	if o.StoreDir == "" {
		return nil, errors.New("cluster: embedded server needs a store directory")
	}
	opts := &server.Options{
		ServerName: "flowrun-embedded",
		JetStream:  true,
		StoreDir:   o.StoreDir,
		NoSigs:     true,
		NoLog:      true,
	}
	if o.Listen == "" {
		opts.DontListen = true
	} else {
		host, port, err := splitHostPort(o.Listen)
		if err != nil {
			return nil, err
		}
		opts.Host, opts.Port = host, port
		if port == 0 {
			// The server reads 0 as its default port, 4222.
			opts.Port = server.RANDOM_PORT
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("cluster: embedded server: %w", err)
	}
	ready := o.Ready
	if ready <= 0 {
		ready = 10 * time.Second
	}
	go ns.Start()
	if !ns.ReadyForConnections(ready) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("cluster: embedded server (listen %q) not ready after %s", o.Listen, ready)
	}
	if !ns.JetStreamEnabled() {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("cluster: embedded server started without JetStream (store %s)", o.StoreDir)
	}
	return &Server{ns: ns}, nil
}

// Connect opens a client connection to the server through memory, which
// works with or without a listening socket.
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{nats.InProcessServer(s.ns), nats.Name("flowrun")}, opts...)
	return nats.Connect("", opts...)
}

// ClientURL is the nats:// URL workers on other machines use; empty when the
// server listens in-process only.
func (s *Server) ClientURL() string {
	if s.ns.Addr() == nil {
		return ""
	}
	return s.ns.ClientURL()
}

// Shutdown stops the server and waits until it has stopped; streams on disk
// stay in StoreDir.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

func splitHostPort(hp string) (string, int, error) {
	host, ps, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, fmt.Errorf("cluster: listen address %q: %w", hp, err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("cluster: listen address %q: port must be 0..65535", hp)
	}
	return host, port, nil
}
