package shell

import (
	"fmt"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/flowrun/flowrun/internal/proc"
)

// tree is everything a step's process starts. On Linux the child is cloned
// into a cgroup of its own where flowrun may create one (internal/proc), so
// kill reaches descendants that left its process group (setsid, a `set -m`
// job, a daemon that double-forked); elsewhere it is the process group.
// The child also gets SIGKILL when flowrun dies (Pdeathsig); the guard
// (internal/proc) does the same for the rest of the tree: the cgroup, or
// else the process group.
type tree struct {
	pgid    int
	cg      *proc.Cgroup // nil: process group only
	guarded bool         // the group is registered with the guard
}

// newTree prepares attr for a step's child; a cgroup that cannot be had is
// not an error, the process group is the fallback.
func newTree(attr *syscall.SysProcAttr) *tree {
	t := &tree{}
	attr.Setpgid = true
	// Pdeathsig follows the thread that started the child; Go ends a
	// thread only when a goroutine locked to it exits, which os/exec's
	// callers here never do.
	attr.Pdeathsig = syscall.SIGKILL
	if cg, err := proc.NewCgroup(); err == nil {
		t.cg = cg
		attr.UseCgroupFD = true
		attr.CgroupFD = cg.FD()
	} else {
		subreaper.Do(func() { _ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) })
	}
	return t
}

// subreaper makes flowrun adopt the orphans of its steps, when it has no
// cgroups to find them in: killGroup then reaps a killed group at once
// instead of waiting for init to. It is not set with cgroups, where orphans
// are left to init: a subreaper must reap every orphan it adopts, and
// flowrun cannot tell those of its steps from those of a plugin's own
// child processes.
var subreaper sync.Once

// started records the child's process group; without a cgroup, the guard
// kills the group should flowrun die before the step ends.
func (t *tree) started(pid int) {
	t.pgid = pid
	if t.cg == nil {
		t.guarded = proc.GuardGroup(pid)
	}
}

// kill SIGKILLs whatever is left of the tree once the step's process has
// exited, and waits until it is gone. It returns an error only when the
// kernel would not empty the cgroup.
func (t *tree) kill() error {
	if t.cg == nil {
		killGroup(t.pgid)
		if t.guarded {
			proc.ReleaseGroup(t.pgid)
		}
		return nil
	}
	if err := t.cg.Kill(); err != nil {
		killGroup(t.pgid)
		return fmt.Errorf("flowrun: %v", err)
	}
	return nil
}

// release gives back what newTree took; call it after kill, or when the
// child did not start.
func (t *tree) release() {
	if t.cg != nil {
		t.cg.Release()
	}
}
