package cli

import (
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/vbauerster/mpb/v8"
	"golang.org/x/sys/unix"

	"github.com/flowrun/flowrun/internal/term"
	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/spec"
)

// watchFlags are apply's flags about what a person sees during and after
// a run.
type watchFlags struct {
	Progress string   `enum:"auto,always,never" default:"auto" env:"FLOWRUN_PROGRESS" help:"Live progress bars on stderr: auto (when stderr is a terminal), always or never. Without them, plain start and end lines, and a progress line for long parallel blocks every few seconds."`
	Color    string   `enum:"auto,always,never" default:"auto" env:"FLOWRUN_COLOR" help:"Colour on stderr: auto (on a terminal, unless NO_COLOR is set), always or never."`
	Verbose  bool     `short:"v" env:"FLOWRUN_VERBOSE" help:"Also stream the output (child stderr) of every item of parallel blocks; by default only single steps stream theirs, and failed items show their last lines."`
	Report   []string `placeholder:"FILE" sep:"none" env:"FLOWRUN_REPORT" help:"Also write the run report to FILE: JSON, or a self-contained HTML page when FILE ends in .html; repeatable. The directory must exist; the file is replaced whole when the run ends."`

	ProgressInterval time.Duration `hidden:"" default:"5s" env:"FLOWRUN_PROGRESS_INTERVAL" help:"Time between progress lines of a parallel block without live progress."`
}

// watcher wires a run's output on stderr: the log, the observer and, on a
// terminal, the live display that log lines are printed above.
type watcher struct {
	stderr io.Writer
	color  bool
	live   *mpb.Progress
	redraw chan any  // asks the live display to redraw
	out    io.Writer // stderr, or the live display while it runs
	log    *slog.Logger
	obs    *observer
	flags  watchFlags
	mask   *mask.Masker // masks every line the watcher writes
}

func newWatcher(e *env, f watchFlags, m *mask.Masker) *watcher {
	w := &watcher{stderr: e.stderr, out: e.stderr, flags: f, color: useColor(f.Color, e.stderrTTY, os.Getenv), mask: m}
	if f.Progress == "always" || f.Progress == "auto" && e.stderrTTY && hasWidth(e.stderr) {
		// The observer's ticker drives the redraws, so that finish can
		// ask for a last one that prints the lines still buffered.
		w.redraw = make(chan any)
		w.live = mpb.New(mpb.WithOutput(e.stderr), mpb.WithManualRefresh(w.redraw))
		w.out = w.live
	}
	h := newLineHandler(w.out, w.color)
	h.mask = m
	w.log = slog.New(h)
	w.obs = newObserver(w.log, w.live, w.redraw, f.ProgressInterval)
	return w
}

// options sets the run options that belong to the watcher.
func (w *watcher) options(o *exec.Options) {
	// Children's stderr reaches a terminal: escape what could act on it.
	o.Log = term.NewWriter(w.out)
	o.Observer = w.obs
	o.QuietItems = !w.flags.Verbose
}

// finish stops the live display, clearing its lines, and prints the
// summary.
func (w *watcher) finish(wf *spec.Workflow, rep *exec.Report) {
	w.obs.close()
	if w.live != nil {
		w.redraw <- time.Now()
		w.live.Shutdown()
		w.live = nil
	}
	// The failures were recorded as they happened, unmasked: the summary
	// masks them, then escapes them (shown).
	var b strings.Builder
	printSummary(&b, summary{rep: rep, wf: wf, failures: w.obs.Failures(), color: w.color, mask: w.mask})
	io.WriteString(w.stderr, b.String())
}

// hasWidth reports whether a terminal says how wide it is. Some report
// 0x0 (a serial console, a pseudo-terminal nobody sized), where live
// bars would draw nothing at all: plain progress lines are better there.
func hasWidth(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	return err == nil && ws.Col > 0
}
