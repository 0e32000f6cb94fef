//go:build unix

package shell

import (
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Once a command's process tree is dead, nothing in it can write to its
// pipes, and what remains to read is at most a pipe buffer. A reader that
// is still busy is only slow (a loaded machine, a slow log) and is waited
// for; a reader that has waited drainIdle for data that never comes is
// reading a pipe that a process flowrun could not reach holds open (one
// that called setsid where per-step cgroups are unavailable), and is
// stopped. drainMax bounds the wait for such a process that keeps writing.
// Closing the read ends stops it at its next write (SIGPIPE).
const (
	drainIdle = 150 * time.Millisecond
	drainMax  = time.Second
)

// pipe is the read end of a command's stdout or stderr. It records when
// its pending Read began, so that drain can tell a slow reader from a pipe
// nobody writes to.
type pipe struct {
	f            *os.File
	waitingSince atomic.Int64 // UnixNano when the pending Read began; 0 between reads
	finished     atomic.Bool
}

func newPipe() (*pipe, *os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	return &pipe{f: r}, w, nil
}

func (p *pipe) Read(b []byte) (int, error) {
	p.waitingSince.Store(time.Now().UnixNano())
	n, err := p.f.Read(b)
	p.waitingSince.Store(0)
	return n, err
}

// Close closes the read end; a Read in progress returns an error. It may
// be called more than once and concurrently with Read.
func (p *pipe) Close() error { return p.f.Close() }

// read runs readFrom on p in wg and marks p finished when it returns.
func (p *pipe) read(wg *sync.WaitGroup, readFrom func(*pipe)) {
	wg.Go(func() {
		defer p.finished.Store(true)
		readFrom(p)
	})
}

// idle reports whether p's reader finished, or has waited at least d in a
// Read that has not returned.
func (p *pipe) idle(now time.Time, d time.Duration) bool {
	if p.finished.Load() {
		return true
	}
	since := p.waitingSince.Load()
	return since != 0 && now.Sub(time.Unix(0, since)) >= d
}

// drain waits for the readers in wg to reach the end of pipes, after the
// command's process tree is dead. When every reader is left waiting on a
// pipe that something outside the group holds open, it closes the pipes
// and returns false; the readers have returned by then.
func drain(wg *sync.WaitGroup, pipes ...*pipe) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	tick := time.NewTicker(drainIdle / 4)
	defer tick.Stop()
	limit := time.NewTimer(drainMax)
	defer limit.Stop()
	for stuck := false; !stuck; {
		select {
		case <-done:
			return true
		case <-limit.C:
			stuck = true
		case now := <-tick.C:
			stuck = true
			for _, p := range pipes {
				stuck = stuck && p.idle(now, drainIdle)
			}
		}
	}
	for _, p := range pipes {
		p.Close()
	}
	<-done
	return false
}
