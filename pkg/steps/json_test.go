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
