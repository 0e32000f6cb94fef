package cli

import (
	"bytes"
	"log/slog"
	"testing"
)

func TestUseColor(t *testing.T) {
	tests := []struct {
		mode string
		tty  bool
		env  map[string]string
		want bool
	}{
		{"always", false, nil, true},
		{"always", false, map[string]string{"NO_COLOR": "1"}, true},
		{"never", true, nil, false},
		{"auto", false, nil, false},
		{"auto", true, nil, true},
		{"auto", true, map[string]string{"NO_COLOR": "1"}, false},
		{"auto", true, map[string]string{"TERM": "dumb"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			got := useColor(tt.mode, tt.tty, func(k string) string { return tt.env[k] })
			if got != tt.want {
				t.Errorf("useColor(%q, tty %v, env %v) = %v; want %v", tt.mode, tt.tty, tt.env, got, tt.want)
			}
		})
	}
}

func TestLineHandler(t *testing.T) {
	tests := []struct {
		name  string
		color bool
		log   func(*slog.Logger)
		want  string
	}{
		{"plain", false, func(l *slog.Logger) { l.Info("fan started (3 items)") }, "flowrun: fan started (3 items)\n"},
		{"status is not printed", false, func(l *slog.Logger) { l.Info("fan succeeded in 1s", "status", "succeeded") }, "flowrun: fan succeeded in 1s\n"},
		{"status word painted", true, func(l *slog.Logger) { l.Info("fan failed in 1s", "status", "failed") }, "flowrun: fan \x1b[31mfailed\x1b[0m in 1s\n"},
		{"levels marked", false, func(l *slog.Logger) { l.Error("boom"); l.Warn("careful") }, "flowrun: error: boom\nflowrun: warning: careful\n"},
		{"attributes", false, func(l *slog.Logger) { l.With("step", "fan").Info("hi", "why", "a b") }, "flowrun: hi step=fan why=\"a b\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.log(slog.New(newLineHandler(&buf, tt.color)))
			if got := buf.String(); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}
