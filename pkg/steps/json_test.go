package steps

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		in   string
		want any
		err  string
	}{
		{in: `{"ids":[1234567890123456789, 9007199254740993, 18446744073709551615, 18446744073709551616]}`,
			want: map[string]any{"ids": []any{1234567890123456789, 9007199254740993, uint64(18446744073709551615), json.Number("18446744073709551616")}}},
		{in: `[-9223372036854775808, 1.5, 1e3, 2.0, 1e400, -0]`, want: []any{-9223372036854775808, 1.5, 1000.0, 2.0, json.Number("1e400"), 0}},
		{in: ` "x" `, want: "x"},
		{in: `1 2`, err: "more than one JSON value"},
		{in: ``, err: "unexpected EOF"},
		{in: `{"a":`, err: "unexpected EOF"},
	}
	for _, tt := range tests {
		got, err := DecodeJSON(strings.NewReader(tt.in))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("DecodeJSON(%s) error %v; want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("DecodeJSON(%s): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("DecodeJSON(%s) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestDecodeJSONReusesDecoders: decoders are pooled across values, so a
// value must decode the same whatever was decoded before it — a failure,
// a scalar that ended at EOF, trailing space, a value too large to keep
// the decoder — from many goroutines at once.
func TestDecodeJSONReusesDecoders(t *testing.T) {
	big := `{"s":"` + strings.Repeat("x", 100<<10) + `"}`
	tests := []struct {
		in   string
		want any
		err  string
	}{
		{in: `{"a":1}`, want: map[string]any{"a": 1}},
		{in: `[1,`, err: "unexpected EOF"},
		{in: `7`, want: 7},
		{in: `"x"  ` + "\n\t", want: "x"},
		{in: `{} {}`, err: "more than one JSON value"},
		{in: `{"a":1} x`, err: "more than one JSON value"},
		{in: `nul`, err: "unexpected EOF"},
		{in: `]`, err: "invalid character"},
		{in: big, want: map[string]any{"s": strings.Repeat("x", 100<<10)}},
		{in: `12345678901234567890`, want: uint64(12345678901234567890)},
		{in: `true`, want: true},
	}
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for round := range 50 {
				for i := range tests {
					tt := tests[(i+g+round)%len(tests)]
					got, err := DecodeJSON(strings.NewReader(tt.in))
					switch {
					case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
						t.Errorf("DecodeJSON(%.20s) error %v; want %q", tt.in, err, tt.err)
						return
					case tt.err == "" && err != nil:
						t.Errorf("DecodeJSON(%.20s): %v", tt.in, err)
						return
					case tt.err == "" && !cmp.Equal(tt.want, got):
						t.Errorf("DecodeJSON(%.20s) = %.40v; want %.40v", tt.in, got, tt.want)
						return
					}
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}
