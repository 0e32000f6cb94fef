//go:build unix

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
//
// A group whose members have all been reaped is gone for kill(2), which
// answers at once. Only a group that still has zombies (orphans whose new
// parent has not reaped them yet, or never will, as in a container whose
// init does not reap) needs the scan of /proc that tells a zombie from a
// live process; it backs off from 1 ms to 64 ms between scans so that many
// items ending together do not spend their time scanning.
func killGroup(pgid int) {
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil {
		return // ESRCH: the group is already empty, the common case
	}
	deadline := time.Now().Add(time.Second)
	for wait := time.Millisecond; time.Now().Before(deadline); wait = min(2*wait, 64*time.Millisecond) {
		time.Sleep(wait)
		if !proc.GroupAlive(pgid) {
			return
		}
	}
}
