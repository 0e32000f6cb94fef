package shell

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/steps"
)

// TestStdoutLimit runs with a small limit; MaxOutput itself is too big to
// exercise quickly.
func TestStdoutLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		script  string
		limit   int
		want    any
		wantErr string
	}{
		{name: "at the limit", script: "printf '%0100d' 0", want: strings.Repeat("0", 100)},
		{name: "over the limit", script: "printf '%0101d' 0", wantErr: "stdout exceeded 100 bytes"},
		{name: "endless", script: "yes", wantErr: "stdout exceeded"},
		{name: "many chunks", limit: 3 << 20, script: "yes abc | head -c 2500000", want: strings.Repeat("abc\n", 625000)},
		{name: "at a large limit", limit: minChunk + 2*maxChunk, script: "yes abc | head -c " + itoa(minChunk+2*maxChunk), want: strings.Repeat("abc\n", (minChunk+2*maxChunk)/4)},
		{name: "over a large limit", limit: minChunk + 2*maxChunk, script: "yes abc | head -c " + itoa(minChunk+2*maxChunk+1), wantErr: "stdout exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCommand([]string{"sh", "-c", tt.script}, "", 0)
			c.maxStdout = 100
			if tt.limit > 0 {
				c.maxStdout = tt.limit
			}
			out, err := c.run(context.Background(), &steps.Input{Index: -1, Env: []string{"PATH=/usr/bin:/bin"}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := out.(steps.Text).String(); got != tt.want {
				t.Errorf("got %d bytes %.40q; want %d bytes %.40q", len(got), got, len(tt.want.(string)), tt.want)
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

// TestExitErrorTailMaskedBeforeCut: the last non-empty stderr line is
// masked with the run's Masker before it is cut to 200 bytes, so that a
// secret across byte 200, or across the part of a long line that is
// kept, never shows in part; the bytes reach the log as they came.
func TestExitErrorTailMaskedBeforeCut(t *testing.T) {
	t.Parallel()
	const secret = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	tests := []struct {
		name, script, want string
	}{
		{"straddles byte 200", `printf '%0190d%s\n' 0 "$S"`, strings.Repeat("0", 190) + "***"},
		{"last non-empty line", `printf 'first %s\nlast\n\n  \n' "$S"`, "last"},
		{"no final newline", `printf 'x %s' "$S"`, "x ***"},
		{"long line, secret at its end", `head -c 70000 /dev/zero | tr '\0' a; printf '%s\n' "$S"`, strings.Repeat("a", 200)},
		{"secret across the kept start", `head -c 4090 /dev/zero | tr '\0' ' '; printf 'x%s\n' "$S"`, "x"},
		{"short tail", `printf '  spaced %s  \n' "$S"`, "spaced ***"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newCommand([]string{"sh", "-c", "{ " + tt.script + "; } >&2; exit 3"}, "", 0)
			var log strings.Builder
			in := &steps.Input{Index: -1, Env: []string{"S=" + secret}, Log: &log, Mask: mask.New(secret)}
			_, err := c.run(context.Background(), in)
			var ee *ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("got %v; want an ExitError", err)
			}
			if ee.StderrTail != tt.want {
				t.Errorf("tail %q; want %q", ee.StderrTail, tt.want)
			}
			if !strings.Contains(log.String(), secret) {
				t.Errorf("the log writer got the bytes changed: %.100q", log.String())
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
