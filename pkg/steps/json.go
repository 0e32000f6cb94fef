package steps

import (
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// DecodeJSON reads exactly one JSON value from r with flowrun's number
// policy (see JSONNumber), streaming: r is read once and not held, so the
// memory used is the decoded value plus a small buffer. Anything but
// white space after the value is an error. Every step and item source
// that parses JSON goes through it, so a number means the same wherever
// it comes from.
func DecodeJSON(r io.Reader) (any, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one JSON value")
	}
	return normalizeNumbers(v), nil
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
