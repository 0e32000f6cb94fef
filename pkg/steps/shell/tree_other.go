//go:build unix && !linux

package shell

import (
	"syscall"

	"github.com/flowrun/flowrun/internal/proc"
)

// tree is everything a step's process starts: on this system, its process
// group, which the guard (internal/proc) kills should flowrun die first. A
// descendant that leaves the group (setsid) is not reached; see "Process
// lifetime" in the README.
type tree struct {
	pgid    int
	guarded bool
}

func newTree(attr *syscall.SysProcAttr) *tree {
	attr.Setpgid = true
	return &tree{}
}

func (t *tree) started(pid int) {
	t.pgid = pid
	t.guarded = proc.GuardGroup(pid)
}

func (t *tree) kill() error {
	killGroup(t.pgid)
	if t.guarded {
		proc.ReleaseGroup(t.pgid)
	}
	return nil
}

func (t *tree) release() {}
