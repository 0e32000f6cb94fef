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
// Where flowrun is the subreaper (Linux without per-step cgroups), the
// killed members become its children and are reaped here with a wait for
// the group, which also makes the group vanish for kill(2) at once. Only a
// group that still has zombies of another parent (one that has not reaped
// them yet, or never will, as in a container whose init does not reap)
// needs the scan of /proc that tells a zombie from a live process; it
// starts 5 ms after the kill and backs off to 64 ms so that items ending
// together do not spend their time scanning.
func killGroup(pgid int) {
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil {
		return // ESRCH: the group is already empty, the common case
	}
	start := time.Now()
	for wait := 100 * time.Microsecond; ; wait = min(2*wait, 64*time.Millisecond) {
		reapGroup(pgid)
		if err := syscall.Kill(-pgid, 0); err != nil {
			return // ESRCH: every member is dead and reaped
		}
		// Members left are alive, or zombies of another parent: only
		// the scan tells, and only once they had time to die.
		elapsed := time.Since(start)
		if elapsed > 5*time.Millisecond && !proc.GroupAlive(pgid) || elapsed > time.Second {
			return
		}
		time.Sleep(wait)
	}
}

// reapGroup reaps the exited children of flowrun in group pgid. The step's
// own process is reaped by os/exec before this runs; the others are orphans
// flowrun adopted as subreaper, which nobody else waits for.
func reapGroup(pgid int) {
	for {
		var ws syscall.WaitStatus
		if pid, err := syscall.Wait4(-pgid, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
			return
		}
	}
}
