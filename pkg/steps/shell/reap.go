package shell

import (
	"syscall"
	"time"

	"github.com/flowrun/flowrun/internal/proc"
)

// killGroup SIGKILLs what is left of process group pgid and waits, for at
// most a second, until none of it is alive. The kernel delivers a signal
// asynchronously: without the wait a step could return while its last
// process is still dying, and "no child outlives its step" would hold only
// most of the time.
func killGroup(pgid int) {
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil {
		return // ESRCH: the group is already empty, the common case
	}
	deadline := time.Now().Add(time.Second)
	for proc.GroupAlive(pgid) && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
}
