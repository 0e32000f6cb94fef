//go:build linux

package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// testCA is a throwaway certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// serverCert is a certificate signed by ca for 127.0.0.1 and localhost.
func (ca *testCA) serverCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// tlsServer starts a NATS server with JetStream on a free loopback port
// that speaks TLS only, with a certificate signed by ca.
func tlsServer(t *testing.T, ca *testCA) (*server.Server, string) {
	t.Helper()
	addr := freeAddr(t)
	host, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	ns, err := server.NewServer(&server.Options{
		Host: host, Port: port, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true,
		TLS: true, TLSTimeout: 5,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{ca.serverCert(t)}, MinVersion: tls.VersionTLS12},
	})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	return ns, addr
}

// A NATS server of one's own that speaks TLS with a certificate of a
// private CA: apply and a worker given that CA with --nats-tls-ca run a
// block's items through it, over TLS; without the CA, with another CA or
// with a file that holds no certificate, apply and the worker stop at
// once with exit 2 and an error that names the server and the
// certificate problem; so do they, given a CA, with a server that does
// not speak TLS.
func TestClusterTLS(t *testing.T) {
	t.Setenv("FLOWRUN_STATE_DIR", t.TempDir())
	dir := t.TempDir()
	ca, other := newTestCA(t, "flowrun test CA"), newTestCA(t, "another CA")
	for name, b := range map[string][]byte{"ca.pem": ca.pem, "other.pem": other.pem, "junk.pem": []byte("not a certificate\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(t, dir, "fan.yaml", `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 1..4 }}", workers: 2}
    run: echo "$((ITEM * ITEM))"
    output: json
outputs:
  squares: ${{ steps.fan.outputs }}
`)
	ns, addr := tlsServer(t, ca)
	url := "nats://" + addr

	var out bytes.Buffer
	apply := start(t, dir, "", &out, "apply", "fan.yaml", "--nats", url, "--nats-tls-ca", "ca.pem")
	w := start(t, dir, "", nil, "worker", "--nats", url, "--nats-tls-ca", "ca.pem", "--name", "w1", "--slots", "2")
	if code := apply.wait(t, time.Minute); code != 0 || !strings.Contains(out.String(), "squares: [1,4,9,16]") {
		t.Fatalf("apply: exit %d\nstdout:\n%s\nstderr:\n%s\nworker:\n%s", code, out.String(), apply.stderr, w.stderr)
	}
	// The worker is still connected: over TLS, as every client of this
	// server is.
	w.waitLine(t, "connected to")
	cz, err := ns.Connz(&server.ConnzOptions{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range cz.Conns {
		if c.Name == "flowrun worker w1" {
			found = true
			if c.TLSVersion == "" {
				t.Errorf("the worker's connection is not over TLS: %+v", c)
			}
		}
	}
	if !found {
		t.Errorf("no connection of worker w1 on the server")
	}

	plain := "nats://" + plainServer(t)
	tests := []struct {
		name string
		url  string
		ca   []string // --nats-tls-ca and its file, if any
		want []string // in stderr
	}{
		{"no CA", url, nil, []string{"--nats " + url + ":", "x509: certificate signed by unknown authority", "give its CA with --nats-tls-ca"}},
		{"another CA", url, []string{"--nats-tls-ca", "other.pem"}, []string{"--nats " + url + ":", "x509: certificate signed by unknown authority", "not signed by a CA in --nats-tls-ca other.pem"}},
		{"not a certificate", url, []string{"--nats-tls-ca", "junk.pem"}, []string{"--nats-tls-ca junk.pem: no PEM certificate"}},
		{"no such file", url, []string{"--nats-tls-ca", "nope.pem"}, []string{"--nats-tls-ca nope.pem:", "no such file"}},
		{"not a file", url, []string{"--nats-tls-ca", "/dev/zero"}, []string{"--nats-tls-ca /dev/zero:", "not a regular file"}},
		{"server without TLS", plain, []string{"--nats-tls-ca", "ca.pem"}, []string{"--nats " + plain + ":", "secure connection not available", "does not speak TLS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, args := range [][]string{
				{"apply", "fan.yaml", "--nats", tt.url},
				{"worker", "--nats", tt.url, "--name", "w2"},
			} {
				// A process that waited instead would be killed at the
				// test's end; wait bounds it.
				p := start(t, dir, "", nil, append(args, tt.ca...)...)
				code := p.wait(t, 30*time.Second)
				stderr := p.stderr.String()
				if code != 2 {
					t.Errorf("flowrun %s: exit %d, want 2\n%s", strings.Join(append(args, tt.ca...), " "), code, stderr)
				}
				for _, want := range tt.want {
					if !strings.Contains(stderr, want) {
						t.Errorf("flowrun %s: stderr lacks %q:\n%s", strings.Join(append(args, tt.ca...), " "), want, stderr)
					}
				}
				if strings.Contains(stderr, "panic") || strings.Contains(stderr, "waiting for the cluster") {
					t.Errorf("flowrun %s:\n%s", strings.Join(append(args, tt.ca...), " "), stderr)
				}
			}
		})
	}
}

// plainServer starts a NATS server without TLS on a free loopback port.
func plainServer(t *testing.T) string {
	t.Helper()
	addr := freeAddr(t)
	host, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	ns, err := server.NewServer(&server.Options{Host: host, Port: port, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	return addr
}
