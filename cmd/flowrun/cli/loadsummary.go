package cli

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/flowrun/flowrun/pkg/exec"
)

// printLoad writes, under the summary's table, what a load tester reads
// of each block that was a load test — one with a rate:, a duration: that
// ended it, or status codes (an http block): the rate asked and achieved,
// latency from when items were due and service time, the responses by
// status code and the failures by kind. Then the steps' warnings.
func printLoad(w io.Writer, rep *exec.Report, paint func(color, text string) string) {
	for _, st := range rep.Steps {
		s := st.Summary
		if s == nil || s.RateAskedPerSec == 0 && len(s.StatusCodes) == 0 && s.NotStarted == 0 {
			continue
		}
		ran := s.Succeeded + s.Failed
		fmt.Fprintf(w, "\n%s: %s items in %s, %s", st.ID, thousands(ran), fmtMS(s.DurationMS), perSec(s.ItemsPerSec))
		if s.RateAskedPerSec > 0 {
			fmt.Fprintf(w, "; started at %s, %s asked", perSec(s.RateAchievedPerSec), perSec(s.RateAskedPerSec))
		}
		fmt.Fprintln(w)
		if ran > 0 {
			if s.RateAskedPerSec > 0 {
				fmt.Fprintf(w, "  latency  %s  (from when each item was due)\n", percentiles(s.LatencyP50MS, s.LatencyP95MS, s.LatencyP99MS, s.LatencyMaxMS))
			}
			fmt.Fprintf(w, "  service  %s  (from when each item started)\n", percentiles(s.P50MS, s.P95MS, s.P99MS, s.MaxMS))
		}
		if len(s.StatusCodes) > 0 {
			fmt.Fprintf(w, "  status   %s\n", counted(s.StatusCodes))
		}
		if len(s.Errors) > 0 {
			fmt.Fprintf(w, "  errors   %s\n", counted(s.Errors))
		}
		if s.NotStarted > 0 {
			fmt.Fprintf(w, "  not started  %s of %s items (its duration ended)\n", thousands(s.NotStarted), thousands(s.Total))
		}
	}
	for _, st := range rep.Steps {
		for _, warn := range st.Warnings {
			fmt.Fprintf(w, "\n%s %s: %s\n", paint(ansiYellow+ansiBold, "warning:"), st.ID, warn)
		}
	}
}

func percentiles(p50, p95, p99, maxMS float64) string {
	return fmt.Sprintf("p50 %-7s p95 %-7s p99 %-7s max %s", fmtMS(p50), fmtMS(p95), fmtMS(p99), fmtMS(maxMS))
}

// counted writes counts as "200: 11,990  503: 10", keys in order.
func counted(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + thousands(m[k])
	}
	return strings.Join(parts, "  ")
}

// thousands writes n with thousands separators: 1,000,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// perSec writes a rate for people: 5,043/s; 12/s; 0.5/s.
func perSec(f float64) string {
	switch {
	case f >= 10:
		return thousands(int(math.Round(f))) + "/s"
	case f > 0:
		return strconv.FormatFloat(f, 'g', 2, 64) + "/s"
	}
	return "0/s"
}
