package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/spec"
)

// maxFailuresListed bounds the failures the summary lists; the report
// holds every one.
const maxFailuresListed = 50

// summary is what printSummary shows at the end of a run.
type summary struct {
	rep      *exec.Report
	wf       *spec.Workflow
	failures []string // first to last
	color    bool
	// mask masks what the summary quotes from the run (errors, outputs),
	// before it is escaped for the terminal (shown).
	mask *mask.Masker
}

// printSummary writes the end of a run on stderr: the table of steps, the
// failures in the order they happened with their positions in the file,
// what an interrupt cancelled, and the workflow's outputs.
func printSummary(w io.Writer, s summary) {
	rep := s.rep
	paint := func(color, text string) string {
		if !s.color || color == "" {
			return text
		}
		return color + text + ansiReset
	}
	fmt.Fprintf(w, "\nrun %s %s in %s\n", rep.RunID, paint(statusColor(string(rep.Status)), string(rep.Status)), fmtMS(rep.DurationMS))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  STEP\tSTATUS\tDURATION\tOK\tFAILED\tSKIPPED\tCANCELLED\tP50\tP99")
	for _, st := range rep.Steps {
		ok, failed, skipped, cancelled, p50, p99 := "-", "-", "-", "-", "-", "-"
		if sm := st.Summary; sm != nil {
			ok, failed, skipped, cancelled = fmt.Sprint(sm.Succeeded), fmt.Sprint(sm.Failed), fmt.Sprint(sm.Skipped), fmt.Sprint(sm.Cancelled)
			if sm.Succeeded+sm.Failed > 0 {
				// Latency: from when items were due under a rate:, the
				// service time otherwise (printLoad shows both).
				p50, p99 = fmtMS(sm.LatencyP50MS), fmtMS(sm.LatencyP99MS)
			}
		}
		dur := "-"
		if !st.StartedAt.IsZero() {
			dur = fmtMS(st.DurationMS)
		}
		id := st.ID
		if st.Finally {
			id += " (finally)"
		}
		// tabwriter counts the colour codes as text: pad the status
		// before painting it.
		status := fmt.Sprintf("%-9s", st.Status)
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", id, paint(statusColor(string(st.Status)), status), dur, ok, failed, skipped, cancelled, p50, p99)
	}
	tw.Flush()
	printLoad(w, rep, paint)

	if lines := limitLines(rep, s.mask); len(lines) > 0 {
		fmt.Fprintln(w, "\nlimits (the most items that ran at once with one key value):")
		for _, l := range lines {
			fmt.Fprintln(w, "  "+l)
		}
	}

	if len(s.failures) > 0 {
		fmt.Fprintf(w, "\n%s\n", paint(ansiRed+ansiBold, fmt.Sprintf("failures (%d, first to last):", len(s.failures))))
		for i, f := range s.failures {
			if i == maxFailuresListed {
				fmt.Fprintf(w, "  ... and %d more: see the run report (--report FILE or --output json)\n", len(s.failures)-i)
				break
			}
			fmt.Fprintf(w, "  %d. %s\n", i+1, strings.ReplaceAll(shown(s.mask, f), "\n", "\n     "))
		}
	} else if rep.Status == exec.Failed && rep.Error != "" {
		fmt.Fprintf(w, "\nerror: %s\n", shown(s.mask, rep.Error))
	}

	if r := restored(rep); r != "" {
		fmt.Fprintf(w, "\nrestored from earlier attempts at this run: %s\n", r)
	}

	if c := cancelled(rep); c != "" {
		fmt.Fprintf(w, "\n%s %s\n", paint(ansiYellow+ansiBold, "cancelled:"), c)
	}

	if outs := rep.OrderedOutputs(); len(outs) > 0 {
		fmt.Fprintln(w, "\noutputs:")
		for _, o := range outs {
			if o.Error != "" {
				fmt.Fprintf(w, "  %s: %s %s\n", o.Name, paint(ansiRed, "not evaluated:"), strings.ReplaceAll(shown(s.mask, o.Error), "\n", "\n    "))
			} else {
				fmt.Fprintf(w, "  %s: %s\n", o.Name, shown(s.mask, outputText(o.Value)))
			}
		}
	}
}

// cancelled lists the cancelled steps and the blocks with cancelled
// items: "fan (9990 of 10000 items), verify".
func cancelled(rep *exec.Report) string {
	var parts []string
	for _, st := range rep.Steps {
		switch {
		case st.Summary != nil && st.Summary.Cancelled > 0:
			parts = append(parts, fmt.Sprintf("%s (%d of %d items)", st.ID, st.Summary.Cancelled, st.Summary.Total))
		case st.Status == exec.Cancelled:
			parts = append(parts, st.ID)
		}
	}
	return strings.Join(parts, ", ")
}

// limitLines describes the limit:s of the blocks that have some: "fan: at
// most 2 per ${{ item.host }}: peak 2 (h0 2, h1 2, ...), 150 items
// waited".
func limitLines(rep *exec.Report, m *mask.Masker) []string {
	var out []string
	for _, st := range rep.Steps {
		if st.Summary == nil {
			continue
		}
		for _, l := range st.Summary.Limits {
			keys := make([]string, len(l.Keys))
			for i, k := range l.Keys {
				keys[i] = fmt.Sprintf("%s %d", k.Key, k.Peak)
			}
			line := fmt.Sprintf("%s: at most %d per %s: peak %d", st.ID, l.Max, l.Key, l.Peak)
			if len(keys) > 0 {
				line += " (" + strings.Join(keys, ", ") + ")"
			}
			line += fmt.Sprintf(", %d items waited", l.Held)
			out = append(out, shown(m, line))
		}
	}
	return out
}

// restored lists what a resumed run took from its journal instead of
// running it: "prep, fan (9990 of 10000 items; 10 ran now)".
func restored(rep *exec.Report) string {
	var parts []string
	for _, st := range rep.Steps {
		switch {
		case st.Restored == 0:
		case st.Summary == nil:
			parts = append(parts, st.ID)
		default:
			sm := st.Summary
			parts = append(parts, fmt.Sprintf("%s (%d of %d items; %d ran now)", st.ID, st.Restored, sm.Total, sm.Succeeded+sm.Failed-st.Restored))
		}
	}
	return strings.Join(parts, ", ")
}
