//go:build unix && !linux

package shell

import "syscall"

// tree is everything a step's process starts: on this system, its process
// group. A descendant that leaves the group (setsid) is not reached; see
// "Process lifetime" in the README.
type tree struct{ pgid int }

func newTree(attr *syscall.SysProcAttr) *tree {
	attr.Setpgid = true
	return &tree{}
}

func (t *tree) started(pid int) { t.pgid = pid }
func (t *tree) kill() error     { killGroup(t.pgid); return nil }
func (t *tree) release()        {}
func (t *tree) confined() bool  { return false }
