package shell

import (
	"context"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/pkg/steps"
)

// TestStdoutLimit runs with a small limit; MaxOutput itself is too big to
// exercise quickly.
func TestStdoutLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		script  string
		want    any
		wantErr string
	}{
		{name: "at the limit", script: "printf '%0100d' 0", want: strings.Repeat("0", 100)},
		{name: "over the limit", script: "printf '%0101d' 0", wantErr: "stdout exceeded 100 bytes"},
		{name: "endless", script: "yes", wantErr: "stdout exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCommand([]string{"sh", "-c", tt.script}, "", 0)
			c.maxStdout = 100
			got, err := c.run(context.Background(), &steps.Input{Index: -1, Env: []string{}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short", "abc", 5, "abc"},
		{"exact", "abcde", 5, "abcde"},
		{"ascii", "abcdef", 5, "abcde"},
		{"inside a character", "abcd\u00e9f", 5, "abcd"},
		{"after a character", "abc\u00e9f", 5, "abc\u00e9"},
		{"inside a 4-byte character", "ab\U0001F600", 5, "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := truncate([]byte(tt.in), tt.n); got != tt.want {
				t.Errorf("truncate(%q, %d) = %q; want %q", tt.in, tt.n, got, tt.want)
			}
		})
	}
}

func TestSignalName(t *testing.T) {
	t.Parallel()
	e := &ExitError{Code: -1, Signal: 64, StderrTail: "x"}
	if got, want := e.Error(), "killed by signal 64: x"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}
