package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/flowrun/flowrun/internal/proc"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/report.golden.json")

// masked are the report fields that change from run to run.
var masked = map[string]bool{
	"run_id": true, "started_at": true, "duration_ms": true, "offset_ms": true,
	"p50_ms": true, "p95_ms": true, "p99_ms": true, "max_ms": true, "items_per_sec": true,
	"latency_p50_ms": true, "latency_p95_ms": true, "latency_p99_ms": true, "latency_max_ms": true,
	"histogram": true, "series": true, // their points depend on timing
}

func mask(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if masked[k] {
				x[k] = "MASKED"
			} else {
				x[k] = mask(e)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = mask(e)
		}
	}
	return v
}

const reportYAML = `
version: 1
name: report
inputs:
  n: {type: integer, default: 3}
steps:
  - id: greet
    run: echo hello
  - id: fan
    needs: [greet] # else fan's failure may cancel greet first
    parallel: {items: "${{ 1..inputs.n }}", key: "k${{ item }}", workers: 1, on_error: continue}
    run: |
      echo "on $ITEM" >&2
      [ $ITEM -ne 2 ] || exit 5
      echo $(( $ITEM * 10 ))
    output: json
  - id: never
    needs: [fan]
    log: unreachable
outputs:
  greeting: ${{ steps.greet.output }}
finally:
  - id: tidy
    log: run ${{ run.status }}
`

// TestReportGolden checks the shape of --output json, and that --report
// writes the same report.
func TestReportGolden(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "report.yaml", reportYAML)
	code, stdout, stderr := flowrun(t, dir, "apply", "report.yaml", "-o", "json", "--report", "out.json", "--set", "n=3")
	if code != 1 {
		t.Fatalf("exit %d; want 1\n%s", code, stderr)
	}
	var got any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	gotJSON, _ := json.MarshalIndent(mask(got), "", "  ")
	golden := filepath.Join("testdata", "report.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(gotJSON, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(strings.TrimSpace(string(want)), string(gotJSON)); diff != "" {
		t.Errorf("report differs from %s (-want +got; rerun with -update if intended):\n%s", golden, diff)
	}
	file, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(file) != stdout {
		t.Errorf("--report out.json differs from --output json:\n%s\nwant:\n%s", file, stdout)
	}
}

// TestHTMLReport checks that the HTML report stands alone: no network
// assets, a timeline and a histogram per parallel block.
func TestHTMLReport(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "report.yaml", reportYAML)
	flowrun(t, dir, "apply", "report.yaml", "--report", "run.html")
	page, err := os.ReadFile(filepath.Join(dir, "run.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	for _, want := range []string{"<!DOCTYPE html>", "<h2>Timeline</h2>", "<h2>fan</h2>", "<h3>Latency histogram</h3>", "fan#1 (key k2) failed", `class="bar"`} {
		if !strings.Contains(html, want) {
			t.Errorf("run.html lacks %q", want)
		}
	}
	external := regexp.MustCompile(`(?i)(src|href)=|url\(|https?://`)
	for _, m := range external.FindAllString(strings.ReplaceAll(html, `xmlns="http://www.w3.org/2000/svg"`, ""), -1) {
		t.Errorf("run.html refers to something outside itself: %q", m)
	}
}

// TestProgressInTerminal runs apply under a pseudo-terminal: live progress
// lines appear while the block runs and are gone at the end.
func TestProgressInTerminal(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "slow.yaml", `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 1..6 }}", workers: 2}
    run: sleep 0.3
`)
	cmd := exec.Command("flowrun", "apply", "slow.yaml")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TERM=xterm", "NO_COLOR=")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	out, _ := io.ReadAll(tty) // until the child closes its side (EIO)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("flowrun: %v\n%s", err, out)
	}
	screen := string(out)
	if !regexp.MustCompile(`fan .*\d/6 done, 0 failed, \d running`).MatchString(screen) {
		t.Fatalf("no progress line for fan in the terminal output:\n%q", screen)
	}
	if !regexp.MustCompile(`flowrun: fan \S*succeeded\S* in \S+ \(6 ok\)`).MatchString(screen) {
		t.Errorf("no end line for fan:\n%q", screen)
	}
	// The live display's last frame is erased (cursor up, erase down)
	// before the summary, and never drawn again.
	last := strings.LastIndex(screen, "/6 done")
	rest := screen[last:]
	erase, summary := strings.Index(rest, "\x1b[1A\x1b[J"), strings.Index(rest, "\nrun ")
	if erase < 0 || summary < 0 || erase > summary {
		t.Errorf("the progress line is not erased before the summary:\n%q", rest)
	}
	if !strings.Contains(screen, "\x1b[32msucceeded") {
		t.Errorf("no colour on a terminal:\n%q", screen)
	}
}

// TestProgressInZeroSizeTerminal: a terminal that reports 0x0 gets the
// plain progress lines, not live bars that would draw nothing.
func TestProgressInZeroSizeTerminal(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "slow.yaml", `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 1..4 }}", workers: 2}
    run: sleep 0.2
`)
	cmd := exec.Command("flowrun", "apply", "slow.yaml")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TERM=xterm", "NO_COLOR=1", "FLOWRUN_PROGRESS_INTERVAL=1ms")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 0, Cols: 0})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	out, _ := io.ReadAll(tty)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("flowrun: %v\n%s", err, out)
	}
	screen := string(out)
	if !regexp.MustCompile(`flowrun: fan: \d/4 done, 0 failed, \d running`).MatchString(screen) {
		t.Errorf("no plain progress line in a 0x0 terminal:\n%q", screen)
	}
	if strings.Contains(screen, "\x1b[1A") {
		t.Errorf("live display drawn in a 0x0 terminal:\n%q", screen)
	}
}

// TestSecondInterruptKills: the first SIGINT asks children to stop, a
// child that ignores SIGTERM is killed by the second; flowrun exits 130
// and leaves no process behind.
func TestSecondInterruptKills(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "stubborn.yaml", `
version: 1
steps:
  - id: hold
    parallel: {items: [1, 2], workers: 2}
    run:
      kill_grace: 1h
      script: |
        trap '' TERM
        echo $$ > child-$INDEX.pid
        echo started > started-$INDEX
        while :; do sleep 0.05; done
`)
	cmd := exec.Command("flowrun", "apply", "stubborn.yaml", "--progress", "never")
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitFor(t, filepath.Join(dir, "started-0"), filepath.Join(dir, "started-1"))
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	waitLine(t, lines, "cancelling running work")
	// The children ignore SIGTERM: they are still running now.
	for i := range 2 {
		if pid := readPID(t, filepath.Join(dir, "child-"+strconv.Itoa(i)+".pid")); !proc.Alive(pid) {
			t.Fatalf("child %d died of SIGTERM; the test needs one that ignores it", pid)
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	var rest bytes.Buffer
	for l := range lines {
		rest.WriteString(l + "\n")
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("flowrun exited with %v; want exit status 130\n%s", err, rest.String())
	}
	for i := range 2 {
		if pid := readPID(t, filepath.Join(dir, "child-"+strconv.Itoa(i)+".pid")); proc.Alive(pid) {
			t.Errorf("child %d outlived flowrun", pid)
		}
	}
	if !strings.Contains(rest.String(), "cancelled: hold (2 of 2 items)") {
		t.Errorf("the summary does not say what was cancelled:\n%s", rest.String())
	}
}

// waitLine reads lines until one contains want.
func waitLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stderr ended before a line with %q", want)
			}
			if strings.Contains(l, want) {
				return
			}
		case <-timeout:
			t.Fatalf("no line with %q on stderr", want)
		}
	}
}
