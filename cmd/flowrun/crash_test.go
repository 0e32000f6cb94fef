package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowrun/flowrun/pkg/state"
)

// crashItems and crashWorkers size the crash test's block: long enough
// that random kills land in every phase (start, the block, the end).
const (
	crashItems   = 240
	crashWorkers = 4
)

// crashWorkflow appends "start KEY PID" to the ledger when an item (or a
// single step) starts and "end KEY PID NANOS" when it is done, PID being
// the flowrun process that runs it.
var crashWorkflow = fmt.Sprintf(`
version: 1
steps:
  - id: prep
    run: echo "start prep $PPID" >> ledger
  - id: fan
    needs: [prep]
    parallel: {items: "${{ 1..%d }}", key: "k${{ item }}", workers: %d, results: failures}
    run: |
      echo "start $FLOWRUN_ITEM_KEY $PPID" >> ledger
      sleep 0.005
      echo "end $FLOWRUN_ITEM_KEY $PPID $(date +%%s%%N)" >> ledger
  - id: after
    needs: [fan]
    run: echo "start after $PPID" >> ledger
finally:
  - id: fin
    run: "true"
`, crashItems, crashWorkers)

// TestCrashResume kills flowrun with SIGKILL at random points of a run
// and of its resumes, then resumes until a run completes, and checks the
// guarantee against a ledger every item appends to:
//
//   - every item ran, and the last run reports the whole block succeeded;
//   - nothing whose success was journaled when flowrun died ran again;
//   - what ran again was running when flowrun died, or had finished
//     shortly before: flowrun records an item once it has seen its
//     process exit and reaped it, and writes the record within
//     state.FlushEvery (synced within state.SyncEvery). The ledger can
//     only tell when the item's shell wrote its last line, which on a
//     loaded machine may be a scheduling delay before flowrun sees it; so
//     a re-run item whose last line is more than a second before the kill
//     fails the test (no flush lasts that long), and the test logs how
//     many ran again, the latest lag, and how many had a lag beyond
//     SyncEvery.
//
// CI runs one run with up to 4 kills. FLOWRUN_CRASH_ITERATIONS=20 runs
// 20 (the measure BENCHMARKS.md reports).
func TestCrashResume(t *testing.T) {
	iterations := 1
	if s := os.Getenv("FLOWRUN_CRASH_ITERATIONS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("FLOWRUN_CRASH_ITERATIONS=%q: want a positive count", s)
		}
		iterations = n
	}
	// A run without kills says how long one takes here: kills land
	// anywhere within that.
	calib := t.TempDir()
	write(t, calib, "wf.yaml", crashWorkflow)
	start := time.Now()
	if code, _, stderr := flowrun(t, calib, "apply", "wf.yaml"); code != 0 {
		t.Fatalf("a run without kills: exit %d\n%s", code, stderr)
	}
	span := time.Since(start)
	var total crashStats
	for i := range iterations {
		seed := uint64(time.Now().UnixNano()) + uint64(i)
		st := crashOnce(t, rand.New(rand.NewPCG(seed, uint64(i))), seed, span)
		total.kills += st.kills
		total.reruns += st.reruns
		total.maxLag = max(total.maxLag, st.maxLag)
		total.late += st.late
		if t.Failed() {
			return
		}
	}
	t.Logf("%d run(s), %d kill(s): %d item(s) ran again in all; the oldest of them had finished %v before its kill; %d more than %v before",
		iterations, total.kills, total.reruns, total.maxLag, total.late, state.SyncEvery)
}

type crashStats struct {
	kills, reruns int
	maxLag        time.Duration
	late          int // re-run items whose last line was more than SyncEvery before the kill
}

// attempt is one flowrun process of the crash test.
type attempt struct {
	pid    int
	killed time.Time // zero when it ran to its end
	// journaled are the steps and keys whose success the journal held
	// once the process was dead.
	journaled map[string]bool
}

func crashOnce(t *testing.T, rng *rand.Rand, seed uint64, span time.Duration) crashStats {
	dir := t.TempDir()
	write(t, dir, "wf.yaml", crashWorkflow)
	kills := 1 + rng.IntN(4)
	var attempts []*attempt
	for n := 0; ; n++ {
		args := []string{"apply", "wf.yaml", "--resume"}
		if !hasRun(t, dir) {
			args = args[:2] // killed before the run was recorded: start it
		}
		cmd := exec.Command("flowrun", args...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		a := &attempt{pid: cmd.Process.Pid}
		attempts = append(attempts, a)
		if n < kills {
			// Anywhere from flowrun's start to the end of a whole run.
			time.Sleep(time.Duration(rng.Int64N(int64(span))))
			a.killed = time.Now()
			_ = cmd.Process.Signal(syscall.SIGKILL)
		}
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee) && ee.ProcessState.Sys().(syscall.WaitStatus).Signaled():
		default:
			t.Fatalf("seed %d, attempt %d (%v): %v\n%s", seed, n, args, err, stderr.String())
		}
		a.journaled = journaled(t, dir)
		if err == nil {
			a.killed = time.Time{} // it ended before the kill
			break
		}
		if n > kills+2 {
			t.Fatalf("seed %d: still not done after %d attempts:\n%s", seed, n+1, stderr.String())
		}
	}
	return checkLedger(t, dir, seed, attempts)
}

// hasRun reports whether a run of the workflow was recorded: a run folder
// with its run.json.
func hasRun(t *testing.T, dir string) bool {
	runs, _ := filepath.Glob(filepath.Join(dir, ".flowrun", "runs", "*", state.RunFile))
	return len(runs) > 0
}

// journaled reads what the journal holds now: the steps and item keys
// whose latest record says they succeeded.
func journaled(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	names, _ := filepath.Glob(filepath.Join(dir, ".flowrun", "runs", "*", state.JournalFile))
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		rp, _, err := state.LoadReplay(f, name)
		f.Close()
		if err != nil {
			t.Fatalf("the journal after a kill: %v", err)
		}
		for _, id := range []string{"prep", "after"} {
			if sr, ok := rp.Step(id); ok && sr.Status == state.StatusSucceeded {
				out[id] = true
			}
		}
		if b := rp.Block("fan"); b != nil {
			for key := range b.Keys() {
				if it, _ := b.Item(key); it.Status == state.StatusSucceeded {
					out[key] = true
				}
			}
		}
	}
	return out
}

// checkLedger checks the guarantee (see TestCrashResume).
func checkLedger(t *testing.T, dir string, seed uint64, attempts []*attempt) crashStats {
	t.Helper()
	byPID := map[int]int{}
	for i, a := range attempts {
		byPID[a.pid] = i
	}
	type run struct {
		attempt int
		end     time.Time // zero: no end line
	}
	runs := map[string][]*run{} // key -> its runs, in order
	f, err := os.Open(filepath.Join(dir, "ledger"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 {
			continue // a line cut by the kill
		}
		pid, _ := strconv.Atoi(fields[2])
		n, ok := byPID[pid]
		if !ok {
			t.Fatalf("seed %d: ledger line %q from an unknown process", seed, sc.Text())
		}
		key := fields[1]
		switch fields[0] {
		case "start":
			runs[key] = append(runs[key], &run{attempt: n})
		case "end":
			// The run of this key by this process: the last one, unless
			// a child of a killed process wrote after the next began.
			rs := runs[key]
			for i := len(rs) - 1; i >= 0 && len(fields) == 4; i-- {
				if rs[i].attempt == n {
					ns, _ := strconv.ParseInt(fields[3], 10, 64)
					rs[i].end = time.Unix(0, ns)
					break
				}
			}
		}
	}
	for _, rs := range runs {
		slices.SortStableFunc(rs, func(a, b *run) int { return a.attempt - b.attempt })
	}
	var st crashStats
	for _, a := range attempts {
		if !a.killed.IsZero() {
			st.kills++
		}
	}
	want := []string{"prep", "after"}
	for i := 1; i <= crashItems; i++ {
		want = append(want, "k"+strconv.Itoa(i))
	}
	for _, key := range want {
		rs := runs[key]
		if len(rs) == 0 {
			t.Errorf("seed %d: %s never ran", seed, key)
			continue
		}
		for i := 1; i < len(rs); i++ {
			prev, a := rs[i-1], attempts[rs[i-1].attempt]
			st.reruns++
			switch {
			case a.killed.IsZero():
				t.Errorf("seed %d: %s ran again after attempt %d, which was not killed", seed, key, prev.attempt)
			case attempts[rs[i].attempt-1].journaled[key]:
				t.Errorf("seed %d: %s ran again in attempt %d although the journal held its success", seed, key, rs[i].attempt)
			case !prev.end.IsZero():
				lag := a.killed.Sub(prev.end)
				st.maxLag = max(st.maxLag, lag)
				if lag > state.SyncEvery {
					st.late++
				}
				if lag > time.Second {
					t.Errorf("seed %d: %s ran again in attempt %d; in attempt %d it had finished %v before the kill, far beyond the commit window %v",
						seed, key, rs[i].attempt, prev.attempt, lag, state.SyncEvery)
				}
			}
		}
	}
	// The last run reports the whole block.
	rep := lastReport(t, dir)
	if rep.Status != "succeeded" || rep.Fan.Summary.Succeeded != crashItems {
		t.Errorf("seed %d: the last report: %+v", seed, rep)
	}
	return st
}

// lastReport reads the report the last run kept in its folder.
func lastReport(t *testing.T, dir string) (rep struct {
	Status string `json:"status"`
	Fan    struct {
		Summary struct {
			Succeeded int `json:"succeeded"`
		} `json:"summary"`
	}
}) {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, ".flowrun", "runs", "*", state.ReportFile))
	if len(names) != 1 {
		t.Fatalf("reports %v; want one", names)
	}
	b, err := os.ReadFile(names[0])
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Status string            `json:"status"`
		Steps  []json.RawMessage `json:"steps"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	rep.Status = raw.Status
	for _, s := range raw.Steps {
		var id struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(s, &id)
		if id.ID == "fan" {
			_ = json.Unmarshal(s, &rep.Fan)
		}
	}
	return rep
}
