package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowrun/flowrun/internal/proc"
)

// escapingBlock is a parallel block whose items leave three processes
// each: the step's shell (child-N.pid), a background job in its process
// group (bg-N.pid) and a grandchild that called setsid (gc-N.pid).
const escapingBlock = `
version: 1
steps:
  - id: wait
    parallel: {items: [0, 1], workers: 2}
    run: |
      sleep 300 </dev/null >/dev/null 2>&1 &
      echo $! > bg-$INDEX.pid
      setsid sh -c 'echo $$ > gc-$INDEX.pid; exec sleep 300' </dev/null >/dev/null 2>&1 &
      echo $$ > child-$INDEX.pid
      until [ -s gc-$INDEX.pid ]; do sleep 0.01; done
      echo started > started-$INDEX
      sleep 300
finally:
  - id: cleanup
    run: echo "${{ run.status }}" > finally.txt
`

// escapedPIDs reads the pid files the block's items wrote.
func escapedPIDs(t *testing.T, dir string, names ...string) map[string]int {
	t.Helper()
	pids := map[string]int{}
	for i := range 2 {
		for _, n := range names {
			f := n + "-" + strconv.Itoa(i) + ".pid"
			pids[f] = readPID(t, filepath.Join(dir, f))
		}
	}
	return pids
}

// assertAllGone waits, for at most 10 s, until none of pids is alive, and
// kills and reports those that are.
func assertAllGone(t *testing.T, pids map[string]int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for name, pid := range pids {
		for proc.Alive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if proc.Alive(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("process %d (%s) still alive 10s after flowrun ended", pid, name)
		}
	}
}

// TestKill9LeavesNoProcess kills flowrun with SIGKILL while its items run:
// no child and no background job survives it, nor, with per-step cgroups,
// a setsid grandchild. It runs with cgroups where they are available and
// without (FLOWRUN_CGROUPS=off), where the guard kills process groups.
func TestKill9LeavesNoProcess(t *testing.T) {
	for _, cgroups := range []bool{true, false} {
		t.Run("cgroups="+strconv.FormatBool(cgroups), func(t *testing.T) {
			names := []string{"child", "bg"}
			env := os.Environ()
			if !cgroups {
				env = append(env, "FLOWRUN_CGROUPS=off")
			} else if err := proc.CgroupsAvailable(); err != nil {
				t.Skipf("no per-step cgroups here: %v", err)
			} else {
				names = append(names, "gc")
			}
			dir := t.TempDir()
			write(t, dir, "wait.yaml", escapingBlock)
			cmd := exec.Command("flowrun", "apply", "wait.yaml")
			cmd.Dir, cmd.Env = dir, env
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, filepath.Join(dir, "started-0"), filepath.Join(dir, "started-1"))
			pids := escapedPIDs(t, dir, names...)
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			assertAllGone(t, pids)
			if !cgroups { // not guaranteed: stop them
				for _, f := range []string{"gc-0.pid", "gc-1.pid"} {
					syscall.Kill(readPID(t, filepath.Join(dir, f)), syscall.SIGKILL)
				}
			}
		})
	}
}

// TestSignals sends each signal that ends a run: running work is
// cancelled (setsid grandchildren too), finally steps run, the report is
// written, and the exit code tells which signal it was.
func TestSignals(t *testing.T) {
	tests := []struct {
		sig  syscall.Signal
		want int
	}{
		{syscall.SIGTERM, 130},
		{syscall.SIGHUP, 129},
		{syscall.SIGPIPE, 141},
	}
	for _, tt := range tests {
		t.Run(tt.sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "wait.yaml", escapingBlock)
			cmd := exec.Command("flowrun", "apply", "wait.yaml", "--report", "r.json")
			cmd.Dir = dir
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, filepath.Join(dir, "started-0"), filepath.Join(dir, "started-1"))
			names := []string{"child", "bg"}
			if proc.CgroupsAvailable() == nil {
				names = append(names, "gc")
			}
			pids := escapedPIDs(t, dir, names...)
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			checkEnd(t, dir, cmd, tt.want, &stderr)
			assertAllGone(t, pids)
			if len(names) < 3 {
				for _, f := range []string{"gc-0.pid", "gc-1.pid"} {
					syscall.Kill(readPID(t, filepath.Join(dir, f)), syscall.SIGKILL)
				}
			}
		})
	}
}

// checkEnd waits for flowrun and checks an interrupted run's end: the exit
// code, the finally step, the report.
func checkEnd(t *testing.T, dir string, cmd *exec.Cmd, want int, stderr *bytes.Buffer) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("flowrun still running 30s after the signal\nstderr:\n%s", stderr)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != want {
		t.Errorf("flowrun exited with %v; want exit status %d\nstderr:\n%s", err, want, stderr)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "finally.txt"))
	if strings.TrimSpace(string(got)) != "cancelled" {
		t.Errorf("finally step wrote %q; want it to run and see run.status cancelled", got)
	}
	b, err := os.ReadFile(filepath.Join(dir, "r.json"))
	var rep struct{ Status string }
	if err != nil || json.Unmarshal(b, &rep) != nil || rep.Status != "cancelled" {
		t.Errorf("report: %v, %.200s; want a report with status cancelled", err, b)
	}
}

// TestBrokenPipe runs `flowrun apply ... 2>&1 | head -1` for real: once
// the reader has gone, flowrun's next log line raises SIGPIPE, and the run
// ends as for any interrupt, with exit code 141.
func TestBrokenPipe(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "ticks.yaml", `
version: 1
steps:
  - id: tick
    run: |
      while :; do echo tick >&2; sleep 0.05; done
finally:
  - id: cleanup
    run: echo "${{ run.status }}" > finally.txt
`)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("flowrun", "apply", "ticks.yaml", "--report", "r.json")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("reading flowrun's first line: %v", err)
	}
	r.Close() // head -1 exits
	checkEnd(t, dir, cmd, 141, bytes.NewBufferString(line))
}

// TestBrokenStdout: results written to a pipe whose reader has gone end
// with 141, as a program killed by SIGPIPE would, not with a success.
func TestBrokenStdout(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "ok.yaml", `
version: 1
steps:
  - id: a
    run: echo hi
`)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	defer w.Close()
	cmd := exec.Command("flowrun", "apply", "ok.yaml", "-o", "json")
	cmd.Dir = dir
	cmd.Stdout = w
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 141 {
		t.Errorf("flowrun exited with %v; want exit status 141", err)
	}
}

// TestCalleeFinallyStopsAtFirstSignal: a called workflow's long finally
// step does not hold flowrun after the first SIGTERM.
func TestCalleeFinallyStopsAtFirstSignal(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "callee.yaml", `
version: 1
steps:
  - id: quick
    run: "true"
finally:
  - id: long
    run: |
      echo started > started
      sleep 600
`)
	write(t, dir, "main.yaml", `
version: 1
steps:
  - id: call
    uses: ./callee.yaml
finally:
  - id: cleanup
    run: echo "${{ run.status }}" > finally.txt
`)
	cmd := exec.Command("flowrun", "apply", "main.yaml", "--report", "r.json")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, filepath.Join(dir, "started"))
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	checkEnd(t, dir, cmd, 130, &stderr)
}
