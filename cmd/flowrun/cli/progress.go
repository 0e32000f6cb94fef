package cli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/spec"
)

// textObserver prints a start and an end line per step on stderr.
type textObserver struct {
	mu sync.Mutex
	w  io.Writer
}

func newTextObserver(w io.Writer) *textObserver { return &textObserver{w: w} }

func (o *textObserver) StepStarted(s *spec.Step, items int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if items >= 0 {
		fmt.Fprintf(o.w, "flowrun: %s started (%d items)\n", s.ID, items)
		return
	}
	fmt.Fprintf(o.w, "flowrun: %s started\n", s.ID)
}

func (o *textObserver) ItemFinished(*spec.Step, *exec.ItemResult) {}

func (o *textObserver) StepFinished(s *spec.Step, r *exec.StepReport) {
	o.mu.Lock()
	defer o.mu.Unlock()
	line := fmt.Sprintf("flowrun: %s %s", s.ID, r.Status)
	switch {
	case r.Status == exec.Skipped || r.Status == exec.Cancelled:
		if r.Reason != "" {
			line += ": " + r.Reason
		}
	default:
		line += fmt.Sprintf(" in %s", fmtMS(r.DurationMS))
	}
	if r.Status == exec.Failed && r.Error != "" {
		line += "\n  " + strings.ReplaceAll(r.Error, "\n", "\n  ")
	}
	fmt.Fprintln(o.w, line)
}

// printSummary prints the table of steps at the end of a run.
func printSummary(w io.Writer, rep *exec.Report) {
	fmt.Fprintf(w, "\nrun %s %s in %s\n", rep.RunID, rep.Status, fmtMS(rep.DurationMS))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  STEP\tSTATUS\tDURATION\tITEMS\tP50\tP99")
	for _, s := range rep.Steps {
		items, p50, p99 := "-", "-", "-"
		if sm := s.Summary; sm != nil {
			items = fmt.Sprintf("%d ok, %d failed, %d cancelled", sm.Succeeded, sm.Failed, sm.Cancelled)
			p50, p99 = fmtMS(sm.P50MS), fmtMS(sm.P99MS)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Status, fmtMS(s.DurationMS), items, p50, p99)
	}
	tw.Flush()
	if rep.Status == exec.Failed && rep.Error != "" {
		fmt.Fprintf(w, "error: %s\n", rep.Error)
	}
}

func fmtMS(ms float64) string {
	switch {
	case ms >= 1000:
		return fmt.Sprintf("%.2fs", ms/1000)
	case ms >= 10:
		return fmt.Sprintf("%.0fms", ms)
	default:
		return fmt.Sprintf("%.1fms", ms)
	}
}
