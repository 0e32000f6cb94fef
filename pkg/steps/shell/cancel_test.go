package shell_test

import (
	"context"
	"errors"
	"github.com/flowrun/flowrun/internal/proc"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flowrun/flowrun/pkg/steps"
	"github.com/flowrun/flowrun/pkg/steps/shell"
)

// deadline bounds how long a test waits for a step that should stop at
// once. It is generous: the tests assert that processes are gone, not how
// fast.
const deadline = 10 * time.Second

type result struct {
	out any
	err error
}

// start runs step in the background.
func start(ctx context.Context, step steps.Step, in *steps.Input) <-chan result {
	ch := make(chan result, 1)
	go func() {
		out, err := step.Run(ctx, in)
		out = text(out)
		ch <- result{out, err}
	}()
	return ch
}

func await(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(deadline):
		t.Fatalf("step still running %v after it should have stopped", deadline)
		return result{}
	}
}

func TestCancelStopsProcessGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	step := &shell.Run{Script: "sleep 30 & echo $! > pid; wait"}
	done := start(ctx, step, &steps.Input{Index: -1, Dir: dir, Env: testEnv()})
	pid := waitPID(t, filepath.Join(dir, "pid"))

	cancel()
	r := await(t, done)
	if !errors.Is(r.err, context.Canceled) {
		t.Errorf("got error %v; want one wrapping context.Canceled", r.err)
	}
	var exit *shell.ExitError
	if !errors.As(r.err, &exit) || exit.Signal != syscall.SIGTERM {
		t.Errorf("got error %v; want the script killed by SIGTERM", r.err)
	}
	if r.out != nil {
		t.Errorf("got output %q; want nil", r.out)
	}
	assertGone(t, pid)
}

// TestKill checks that a script that ignores SIGTERM gets SIGKILL: after
// kill_grace, or at once when Input.Kill is closed.
func TestKill(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		grace time.Duration
		kill  string // when Input.Kill is closed: never, before or after the cancel
	}{
		{name: "after grace", grace: 100 * time.Millisecond, kill: "never"},
		{name: "kill already closed", grace: time.Hour, kill: "before"},
		{name: "kill closed during grace", grace: time.Hour, kill: "after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			kill := make(chan struct{})
			in := &steps.Input{Index: -1, Dir: dir, Env: testEnv(), Kill: kill}
			if tt.kill == "never" {
				in.Kill = nil
			}
			step := &shell.Run{Script: "trap '' TERM; sleep 30 & echo $! > pid; wait", KillGrace: tt.grace}
			done := start(ctx, step, in)
			pid := waitPID(t, filepath.Join(dir, "pid"))

			if tt.kill == "before" {
				close(kill)
			}
			cancel()
			if tt.kill == "after" {
				time.Sleep(200 * time.Millisecond) // let SIGTERM be ignored first
				close(kill)
			}
			r := await(t, done)
			if !errors.Is(r.err, context.Canceled) {
				t.Errorf("got error %v; want one wrapping context.Canceled", r.err)
			}
			var exit *shell.ExitError
			if !errors.As(r.err, &exit) || exit.Signal != syscall.SIGKILL {
				t.Errorf("got error %v; want the script killed by SIGKILL", r.err)
			}
			assertGone(t, pid)
		})
	}
}

// TestBackgroundChildKilled checks that a command a script leaves running
// in the background does not outlive the step, even when it holds the
// step's stdout open.
func TestBackgroundChildKilled(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, script string }{
		{"holding stdout", "sleep 60 & echo $! > pid; echo done"},
		{"detached from stdout", "sleep 60 >/dev/null 2>&1 & echo $! > pid; echo done"},
		{"after failure", "sleep 60 & echo $! > pid; echo done; exit 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			r := await(t, start(context.Background(), &shell.Run{Script: steps.Script(tt.script)}, &steps.Input{Index: -1, Dir: dir, Env: testEnv()}))
			if r.err == nil && r.out != "done\n" {
				t.Errorf("got output %q; want %q", r.out, "done\n")
			}
			assertGone(t, waitPID(t, filepath.Join(dir, "pid")))
		})
	}
}

func TestCancelledBeforeStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&shell.Run{Script: "touch ran"}).Run(ctx, &steps.Input{Index: -1, Dir: dir, Env: testEnv()})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got error %v; want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); !os.IsNotExist(err) {
		t.Errorf("got %v from stat; want the script never to have run", err)
	}
}

// TestEscapedProcessDoesNotBlock checks that a process that left the
// step's process group, and so cannot be killed with it, does not keep the
// step running by holding its stdout open.
func TestEscapedProcessDoesNotBlock(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid program")
	}
	dir := t.TempDir()
	log := new(lineLog)
	step := &shell.Run{Script: `setsid sh -c 'echo $$ > pid; exec sleep 30' & until [ -s pid ]; do sleep 0.01; done; echo done`}
	r := await(t, start(context.Background(), step, &steps.Input{Index: -1, Dir: dir, Env: testEnv(), Log: log}))
	pid := waitPID(t, filepath.Join(dir, "pid"))
	syscall.Kill(pid, syscall.SIGKILL)
	if r.err != nil || r.out != "done\n" {
		t.Errorf("got %q, %v; want %q", r.out, r.err, "done\n")
	}
	// With per-step cgroups the process is killed with the step and the
	// pipe ends; without, flowrun stops reading and says so.
	if got := strings.Join(log.lines(), ""); proc.CgroupsAvailable() != nil && !strings.Contains(got, "kept its output open") {
		t.Errorf("got log %q; want a note that the output was held open", got)
	}
}
