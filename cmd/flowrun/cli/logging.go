package cli

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/flowrun/flowrun/internal/term"
	"github.com/flowrun/flowrun/pkg/mask"
)

// ANSI colours of the log. Status words and levels carry them; the rest
// of a line stays plain so that it reads well on any background.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
)

// statusColor is the colour of a status word.
func statusColor(status string) string {
	switch status {
	case "succeeded":
		return ansiGreen
	case "failed":
		return ansiRed
	case "skipped", "cancelled":
		return ansiYellow
	}
	return ""
}

// useColor decides whether stderr gets colour: --color always or never
// win; auto means a terminal (tty), unless NO_COLOR is set or TERM is
// dumb.
func useColor(mode string, tty bool, getenv func(string) string) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	if getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	return tty
}

// isTerminal reports whether w is a character device such as a terminal.
// Only the process's own files are: ask it once, of os.Stdout and
// os.Stderr themselves (newEnv), never of a writer that wraps them.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// shown makes text of a run fit to show a person on stderr or a
// terminal: secrets masked (m; a nil Masker still redacts URL
// credentials), then control characters escaped (term.Escape). Always in
// this order: escaping first would turn a secret holding a control
// character into text the masker no longer recognises.
func shown(m *mask.Masker, s string) string {
	return term.Escape(m.String(s))
}

// lineHandler is the slog handler of flowrun's stderr: one line per
// record, "flowrun: " and the message, then any attributes as key=value.
// An attribute named "status" is not printed: it colours the message's
// status word. Records at WARN and above are marked with their level.
// Each record is written with a single Write, so lines from concurrent
// steps never interleave. The message and attributes are masked (mask; a
// nil Masker still redacts credentials in URLs) before they are coloured.
type lineHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	color bool
	attrs []slog.Attr
	mask  *mask.Masker
}

func newLineHandler(w io.Writer, color bool) *lineHandler {
	return &lineHandler{mu: new(sync.Mutex), w: w, color: color}
}

func (h *lineHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("flowrun: ")
	if r.Level >= slog.LevelWarn {
		lvl, col := "warning: ", ansiYellow
		if r.Level >= slog.LevelError {
			lvl, col = "error: ", ansiRed
		}
		h.paint(&b, col+ansiBold, lvl)
	}
	// A message may quote a child's output (a failed item's log tail):
	// masked and escaped (shown) before flowrun's own colours are added.
	msg, status := shown(h.mask, r.Message), ""
	var rest []slog.Attr
	collect := func(a slog.Attr) bool {
		if a.Key == "status" {
			status = a.Value.String()
		} else {
			rest = append(rest, a)
		}
		return true
	}
	for _, a := range h.attrs {
		collect(a)
	}
	r.Attrs(collect)
	// Colour the first occurrence of the status word in the message.
	if i := strings.Index(msg, status); status != "" && i >= 0 && h.color {
		b.WriteString(msg[:i])
		h.paint(&b, statusColor(status), status)
		b.WriteString(msg[i+len(status):])
	} else {
		b.WriteString(msg)
	}
	for _, a := range rest {
		b.WriteByte(' ')
		h.paint(&b, ansiDim, a.Key+"=")
		b.WriteString(quoteIfNeeded(shown(h.mask, a.Value.String())))
	}
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *lineHandler) paint(b *strings.Builder, color, s string) {
	if !h.color || color == "" {
		b.WriteString(s)
		return
	}
	b.WriteString(color)
	b.WriteString(s)
	b.WriteString(ansiReset)
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = append(append([]slog.Attr{}, h.attrs...), as...)
	return &h2
}

// WithGroup is not used by flowrun; groups are flattened.
func (h *lineHandler) WithGroup(string) slog.Handler { return h }

func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"=") {
		return `"` + strings.NewReplacer(`"`, `\"`, "\n", `\n`).Replace(s) + `"`
	}
	return s
}
