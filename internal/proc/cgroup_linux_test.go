package proc

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runIn runs sh -c script in cgroup g and returns its stdout.
func runIn(t *testing.T, g *Cgroup, script string) string {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, UseCgroupFD: true, CgroupFD: g.FD()}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh -c %q in %s: %v", script, g.Dir(), err)
	}
	return string(out)
}

// TestCgroupKill checks that Kill reaches a process that left its process
// group and session, and that a killed cgroup is never handed out again
// (the kernel kills what is cloned into a cgroup killed before).
func TestCgroupKill(t *testing.T) {
	if err := CgroupsAvailable(); err != nil {
		t.Skipf("no per-step cgroups here: %v", err)
	}
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid program")
	}
	g, err := NewCgroup()
	if err != nil {
		t.Fatal(err)
	}
	out := runIn(t, g, `setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!`)
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("pid %q: %v", out, err)
	}
	if !Alive(pid) {
		t.Fatalf("setsid sleep %d not running", pid)
	}
	if err := g.Kill(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for Alive(pid) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if Alive(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("setsid sleep %d alive after Kill", pid)
	}
	dir := g.Dir()
	g.Release()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("killed cgroup %s: stat %v; want it removed", dir, err)
	}
	for range 3 {
		g, err := NewCgroup()
		if err != nil {
			t.Fatal(err)
		}
		if g.Dir() == dir {
			t.Errorf("killed cgroup %s handed out again", dir)
		}
		if got := runIn(t, g, "echo ok"); got != "ok\n" {
			t.Errorf("got %q; want ok", got)
		}
		if err := g.Kill(); err != nil {
			t.Fatal(err)
		}
		g.Release()
	}
}

// TestRemoveCgroupNested checks that a cgroup holding cgroups of its own
// (a flowrun run by a step) is removed whole.
func TestRemoveCgroupNested(t *testing.T) {
	if err := CgroupsAvailable(); err != nil {
		t.Skipf("no per-step cgroups here: %v", err)
	}
	g, err := NewCgroup()
	if err != nil {
		t.Fatal(err)
	}
	g.close()
	if err := os.MkdirAll(filepath.Join(g.Dir(), "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	removeCgroup(g.Dir())
	if _, err := os.Stat(g.Dir()); !os.IsNotExist(err) {
		t.Errorf("stat %s: %v; want it removed", g.Dir(), err)
	}
}
