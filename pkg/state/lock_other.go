//go:build !unix

package state

import "errors"

// ErrLocked is wrapped by the error of locking a run that another process
// is running or resuming.
var ErrLocked = errors.New("run is in use by another flowrun")

// Lock is a held run lock. Run locks need flock, which only Unix systems
// have here.
type Lock struct{}

func lockRun(dir string) (*Lock, error) {
	return nil, errors.New("recording runs needs a Unix system (run locks use flock)")
}

func held(dir string) bool { return false }

// Release releases the lock.
func (l *Lock) Release() error { return nil }
