//go:build unix

package state

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestLockOfDeadHolder: a lock still held after its process died — by a
// child it was starting, which holds a copy of the descriptor until it
// execs — is waited for, briefly; a lock of a live process is refused at
// once.
func TestLockOfDeadHolder(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, LockFile)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip("no true command:", err)
	}
	// Another open file description holds the lock, as a vforked child
	// would; the file names a process that is gone.
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(strconv.Itoa(dead.Process.Pid) + "\n"); err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	go func() {
		time.Sleep(100 * time.Millisecond)
		f.Close()
		close(released)
	}()
	lk, err := lockRun(dir)
	<-released
	if err != nil {
		t.Fatalf("lock of a dead holder: %v; want it once the descriptor is closed", err)
	}
	lk.Release()

	// A live holder (this process) is refused without waiting for it.
	g, err := os.OpenFile(name, os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if err := syscall.Flock(int(g.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := lockRun(dir); !errors.Is(err, ErrLocked) {
		t.Errorf("lock of a live holder: %v; want ErrLocked", err)
	}
}
