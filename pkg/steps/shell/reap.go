package shell

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"
	"time"
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
	for groupAlive(pgid) && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
}

// groupAlive reports whether a process of group pgid is alive. Zombies do
// not count: in a container whose init does not reap orphans they stay.
func groupAlive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// "pid (comm) state ppid pgrp ...": comm may hold spaces and
		// parentheses, so parse from the last ')'.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := bytes.Fields(stat[i+1:])
		if len(fields) < 3 || string(fields[0]) == "Z" {
			continue
		}
		if pgrp, _ := strconv.Atoi(string(fields[2])); pgrp == pgid {
			return true
		}
	}
	return false
}
