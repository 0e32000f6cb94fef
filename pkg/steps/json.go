package steps

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
)

// DecodeJSON reads exactly one JSON value from r with flowrun's number
// policy (see JSONNumber), streaming: r is read once and not held, so the
// memory used is the decoded value plus a small buffer. Anything but
// white space after the value is an error. Every step and item source
// that parses JSON goes through it, so a number means the same wherever
// it comes from. It is safe for concurrent use.
func DecodeJSON(r io.Reader) (any, error) {
	d := decoders.Get().(*decoder)
	d.src.r, d.src.n = r, 0
	v, err := d.decode()
	d.src.r = nil
	// A decoder that failed may hold a broken stream; one that read a
	// large value holds a large buffer. Neither goes back to the pool.
	if err == nil && d.src.n <= maxPooledRead {
		decoders.Put(d)
	}
	return v, err
}

// decoder is a json.Decoder kept for the next value: an http block
// decodes a body per item, and a new json.Decoder costs a struct and a
// 512-byte buffer each time. The Decoder reads through src, whose reader
// is swapped for each value, so that to it the values are one stream of
// JSON values separated by white space — which onlySpace checks that they
// are — the use a Decoder is made for.
type decoder struct {
	dec  *json.Decoder
	src  swapReader
	tail [64]byte
}

// maxPooledRead bounds the values whose decoder is kept: past it the
// decoder's buffer has grown, and is dropped with it.
const maxPooledRead = 64 << 10

var decoders = sync.Pool{New: func() any {
	d := new(decoder)
	d.dec = json.NewDecoder(&d.src)
	d.dec.UseNumber()
	return d
}}

// swapReader reads from r, counting the bytes.
type swapReader struct {
	r io.Reader
	n int
}

func (s *swapReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += n
	return n, err
}

func (d *decoder) decode() (any, error) {
	var v any
	if err := d.dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if err := d.onlySpace(); err != nil {
		return nil, err
	}
	return normalizeNumbers(v), nil
}

// onlySpace checks that what follows the value — the decoder's buffered
// rest, then the reader to its end — is white space. (Asking the decoder
// for another token would do, but makes it grow its buffer to 1.5 KiB.)
func (d *decoder) onlySpace() error {
	if err := spaceTo(d.dec.Buffered(), d.tail[:]); err != nil {
		return err
	}
	return spaceTo(&d.src, d.tail[:])
}

// spaceTo reads r to its end through buf, failing on anything but white
// space.
func spaceTo(r io.Reader, buf []byte) error {
	for {
		n, err := r.Read(buf)
		if len(bytes.TrimLeft(buf[:n], " \t\r\n")) > 0 {
			return errors.New("more than one JSON value")
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// JSONNumber is flowrun's number policy: a JSON number decoded with
// UseNumber becomes
//   - an int when it is a whole number written without a fraction or an
//     exponent that fits in 64 bits,
//   - a uint64 when it is such a number above the int range (up to
//     18446744073709551615),
//   - the json.Number itself, its text exact, for a whole number beyond
//     that or a number a float64 cannot hold (1e400): it prints and
//     encodes as written, and arithmetic on it is an error rather than a
//     rounded result,
//   - a float64 otherwise (1.5, 1e3).
//
// So an id such as 1234567890123456789 or 9007199254740993 (beyond 2^53,
// where a float64 would round it) reaches URLs, environment variables,
// outputs and reports digit for digit.
func JSONNumber(n json.Number) any {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 0); err == nil {
			return int(i)
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return u
		}
		return n
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return n // out of range: ±Inf would change the value
	}
	return f
}

// normalizeNumbers applies JSONNumber throughout a decoded value.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		return JSONNumber(x)
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	}
	return v
}
