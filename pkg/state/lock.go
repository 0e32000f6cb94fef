//go:build unix

package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrLocked is wrapped by the error of locking a run that another process
// is running or resuming.
var ErrLocked = errors.New("run is in use by another flowrun")

// Lock is a held run lock: an exclusive flock on the run's lock file. The
// kernel releases it when the process dies, however it dies, so a run
// killed with -9 can be resumed at once.
type Lock struct{ f *os.File }

// lockRun takes the lock of the run in dir without waiting: when another
// process holds it the error wraps ErrLocked and names that process.
func lockRun(dir string) (*Lock, error) {
	name := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	err = flockDead(f, name)
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("run %s: %w%s", filepath.Base(dir), ErrLocked, holder(name))
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// Say who holds it, for the error of the next one who tries.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// deadHolderWait is how long a lock whose holder has died may still be
// held: by a child it was starting when it was killed, which holds a
// copy of the lock's descriptor until it execs (close-on-exec) or dies.
const deadHolderWait = 2 * time.Second

// flockDead takes the exclusive lock without waiting, unless the process
// that took it last is gone: then the lock is about to be released (see
// deadHolderWait) and it waits for it that long.
func flockDead(f *os.File, name string) error {
	deadline := time.Now().Add(deadHolderWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) || !holderGone(name) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// holderGone reports whether the process whose pid is in the lock file
// no longer exists.
func holderGone(name string) bool {
	data, err := readRegular(name, 64)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// holder names the process that wrote its pid in the lock file.
func holder(name string) string {
	data, err := readRegular(name, 64)
	pid := strings.TrimSpace(string(data))
	if err != nil || pid == "" {
		return ""
	}
	return " (pid " + pid + ")"
}

// held reports whether a process holds the lock of the run in dir, without
// disturbing it: a shared probe that fails when an exclusive lock is held.
func held(dir string) bool {
	f, err := os.Open(filepath.Join(dir, LockFile))
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// Release releases the lock. Calling it again does nothing.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor releases the flock
	l.f = nil
	return err
}
