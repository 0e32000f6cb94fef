package shell_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/flowrun/flowrun/internal/proc"
	"github.com/flowrun/flowrun/pkg/steps"
	"github.com/flowrun/flowrun/pkg/steps/shell"
)

// needConfinement skips a test of a guarantee that holds only where each
// step gets its own cgroup (Linux, cgroup v2 writable).
func needConfinement(t *testing.T) {
	t.Helper()
	if err := proc.CgroupsAvailable(); err != nil {
		t.Skipf("no per-step cgroups here: %v", err)
	}
}

// TestEscapedDescendantsKilled checks that descendants that left the
// step's process group — setsid, a bash `set -m` job — are killed when the
// step ends: by its process exiting, by its timeout, by cancellation.
func TestEscapedDescendantsKilled(t *testing.T) {
	t.Parallel()
	needConfinement(t)
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid program")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	escapes := map[string]string{
		"setsid":      `setsid sh -c 'echo $$ > pid; exec sleep 300' </dev/null >/dev/null 2>&1 &`,
		"set -m job":  `set -m; sleep 300 </dev/null >/dev/null 2>&1 & echo $! > pid`,
		"double fork": `(sh -c 'echo $$ > pid; exec setsid sleep 300' </dev/null >/dev/null 2>&1 &) ; sleep 0.01`,
	}
	ends := map[string]string{
		"exit":    "exit 0",
		"timeout": "sleep 300",
		"cancel":  "sleep 300",
	}
	for ename, escape := range escapes {
		for end, tail := range ends {
			t.Run(ename+"/"+end, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				script := escape + "\nuntil [ -s pid ]; do sleep 0.01; done\n" + tail
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if end == "timeout" {
					ctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
					defer cancel()
				}
				step := &shell.Exec{Argv: []string{"bash", "-c", script}}
				done := start(ctx, step, &steps.Input{Index: -1, Dir: dir, Env: testEnv()})
				pid := waitPID(t, filepath.Join(dir, "pid"))
				if end == "cancel" {
					cancel()
				}
				r := await(t, done)
				if end == "exit" && r.err != nil {
					t.Errorf("step failed: %v", r.err)
				}
				assertGone(t, pid)
			})
		}
	}
}

// TestHeldOutputBounded checks that a descendant that keeps the step's
// stdout open, and keeps writing to stderr, does not hold the step past the drain
// bound, with or without cgroups.
func TestHeldOutputBounded(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid program")
	}
	dir := t.TempDir()
	step := &shell.Run{Script: `setsid sh -c 'echo $$ > pid; while :; do echo x >&2; sleep 0.05; done' & until [ -s pid ]; do sleep 0.01; done; echo done`}
	r := await(t, start(context.Background(), step, &steps.Input{Index: -1, Dir: dir, Env: testEnv()}))
	pid := waitPID(t, filepath.Join(dir, "pid"))
	defer syscall.Kill(pid, syscall.SIGKILL)
	if r.err != nil || r.out != "done\n" {
		t.Errorf("got %q, %v; want %q", r.out, r.err, "done\n")
	}
	if proc.CgroupsAvailable() == nil {
		assertGone(t, pid)
	}
}

// TestWithoutCgroups runs the process tests again with per-step cgroups
// turned off, so that the process-group fallback is tested on machines
// that have cgroups too.
func TestWithoutCgroups(t *testing.T) {
	if os.Getenv("FLOWRUN_CGROUPS") == "off" {
		t.Skip("already without cgroups")
	}
	if testing.Short() {
		t.Skip("re-runs the package's tests")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^(TestCancel|TestKill|TestEscaped|TestHeldOutput|TestRun|TestExec)", "-test.count=1")
	cmd.Env = append(os.Environ(), "FLOWRUN_CGROUPS=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tests without cgroups: %v\n%s", err, out)
	}
}
