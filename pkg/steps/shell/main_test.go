package shell_test

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/flowrun/flowrun/internal/proc"
	"github.com/flowrun/flowrun/pkg/steps"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// lineLog records what a step writes to Input.Log, one entry per Write.
type lineLog struct {
	mu     sync.Mutex
	writes []string
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes = append(l.writes, string(p))
	return len(p), nil
}

func (l *lineLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.writes...)
}

// testEnv is a minimal environment for a child: enough PATH to find sh.
func testEnv(extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH")}, extra...)
}

// waitPID waits for a script to write a process id to file.
func waitPID(t *testing.T, file string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(file)
		if s := strings.TrimSpace(string(b)); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("pid file %s holds %q", file, b)
			}
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no pid in %s after 10s", file)
	return 0
}

// assertGone fails unless process pid has ended. Signals are delivered
// asynchronously, so it allows the kernel a moment; a zombie counts as
// ended, since reaping an orphan is up to whoever adopted it.
func assertGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if !proc.Alive(pid) {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d still running after the step returned", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// text is a step's output as a string: the shell steps return their
// stdout as a steps.Text.
func text(out any) any {
	if t, ok := out.(steps.Text); ok {
		return t.String()
	}
	return out
}
