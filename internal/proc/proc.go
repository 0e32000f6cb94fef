// Package proc keeps the shell step's guarantee that no process it starts
// outlives the step: per-step cgroups (cgroup_linux.go) where flowrun may
// create them, and /proc to tell whether processes are alive, for the
// process-group fallback and for the tests that check it. It is
// Linux-only, like that guarantee.
package proc

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"
)

// Alive reports whether process pid exists and is not a zombie. A zombie
// counts as ended: in a container whose init does not reap orphans it
// stays forever, though it runs nothing.
func Alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	state, _, ok := stat(strconv.Itoa(pid))
	return ok && state != 'Z' && state != 'X'
}

// GroupAlive reports whether a process of group pgid is alive, zombies
// excepted.
func GroupAlive(pgid int) bool {
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
		if state, pgrp, ok := stat(e.Name()); ok && pgrp == pgid && state != 'Z' && state != 'X' {
			return true
		}
	}
	return false
}

// stat reads a process's state and process group from /proc/PID/stat:
// "pid (comm) state ppid pgrp ...". The command name may hold spaces and
// parentheses, so fields are counted from the last ')'.
func stat(pid string) (state byte, pgrp int, ok bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := bytes.Fields(b[i+1:])
	if len(fields) < 3 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	pgrp, err = strconv.Atoi(string(fields[2]))
	return fields[0][0], pgrp, err == nil
}
