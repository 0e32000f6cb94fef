package cli

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/flowrun/flowrun/internal/regular"
)

// maxCAFile bounds the --nats-tls-ca file: a bundle of a few hundred
// certificates is well under it.
const maxCAFile = 4 << 20

// errCAFile is wrapped by the error of a --nats-tls-ca file that cannot
// be used: waiting for the server will not cure it.
var errCAFile = errors.New("unusable CA file")

// caFileError is a --nats-tls-ca file that cannot be used, and why.
type caFileError struct {
	file string
	err  error
}

func (e *caFileError) Error() string   { return fmt.Sprintf("--nats-tls-ca %s: %v", e.file, e.err) }
func (e *caFileError) Unwrap() []error { return []error{errCAFile, e.err} }

// loadCA reads the certificates of a --nats-tls-ca file: a regular file,
// read through a limit, holding at least one PEM certificate, every one
// of which parses. A file of anything else is an error here rather than
// a TLS failure later that would not say the file is at fault.
func loadCA(file string) (*x509.CertPool, error) {
	b, err := regular.ReadFile(file, maxCAFile)
	if err != nil {
		return nil, &caFileError{file, err}
	}
	pool := x509.NewCertPool()
	n := 0
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, &caFileError{file, fmt.Errorf("certificate %d: %w", n+1, err)}
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, &caFileError{file, errors.New("no PEM certificate in it (want the CA's certificate, -----BEGIN CERTIFICATE-----)")}
	}
	return pool, nil
}

// tlsOption verifies the server's certificate against the CA file,
// read again at each connection, so that a worker that runs for weeks
// picks up a renewed CA. The file is checked now: an unusable one is an
// error before any connection is tried.
func (f natsFlags) tlsOption() (nats.Option, error) {
	if _, err := loadCA(f.TLSCA); err != nil {
		return nil, err
	}
	return nats.ClientTLSConfig(nil, func() (*x509.CertPool, error) { return loadCA(f.TLSCA) }), nil
}

// natsHint says what to do about a connection error that names a TLS
// problem without saying which flag is at fault; "" when there is
// nothing to add.
func (f natsFlags) natsHint(err error) string {
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.As(err, &unknown) && f.TLSCA == "":
		return "the server's certificate is not signed by a CA this machine trusts: give its CA with --nats-tls-ca FILE"
	case errors.As(err, &unknown):
		return fmt.Sprintf("the server's certificate is not signed by a CA in --nats-tls-ca %s", f.TLSCA)
	case errors.Is(err, nats.ErrSecureConnWanted):
		return "the server does not speak TLS, which --nats-tls-ca asks for"
	}
	return ""
}

// connError is the message of a failed connection to url: the error,
// then what to do about it when natsHint knows.
func (f natsFlags) connError(url string, err error) error {
	if errors.Is(err, errCAFile) {
		return err // names its flag and file already
	}
	if hint := f.natsHint(err); hint != "" {
		return fmt.Errorf("--nats %s: %w (%s)", redactURL(url), err, hint)
	}
	return fmt.Errorf("--nats %s: %w", redactURL(url), err)
}
