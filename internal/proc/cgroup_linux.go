package proc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A Cgroup is a cgroup v2 that holds the processes of one step: the child
// is cloned into it (syscall.SysProcAttr.CgroupFD), and every process it
// starts stays in it whatever it does — setsid, setpgid, double fork — so
// Kill finds them all without walking /proc.
//
// Cgroups live under one directory per flowrun process, created on first
// use beside flowrun's own cgroup, and the guard process removes it and
// kills what is left in it when flowrun exits, even by SIGKILL (guard.go).
// They are used only where flowrun may create them: cgroup v2 mounted, its
// own cgroup writable, Linux 5.14 or later (cgroup.kill), and
// FLOWRUN_CGROUPS is not "off".
type Cgroup struct {
	dir    string
	fd     *os.File // the directory, for CgroupFD
	events *os.File // cgroup.events, polled for "populated 0"
	killed bool
}

// NewCgroup returns an empty cgroup for one step, or an error saying why
// cgroups cannot be used here; the caller then falls back to process
// groups. Release it when the step is over.
func NewCgroup() (*Cgroup, error) {
	p, err := cgroups()
	if err != nil {
		return nil, err
	}
	return p.get()
}

// CgroupsAvailable reports whether NewCgroup can succeed, and if not, why.
func CgroupsAvailable() error {
	_, err := cgroups()
	return err
}

// FD is the cgroup's directory descriptor, for syscall.SysProcAttr.CgroupFD.
func (g *Cgroup) FD() int { return int(g.fd.Fd()) }

// Dir is the cgroup's directory.
func (g *Cgroup) Dir() string { return g.dir }

// Kill kills every process in the cgroup and waits until it is empty, for
// at most a few seconds. A cgroup with nothing left in it, the common case
// once a step's process has exited, costs one read.
func (g *Cgroup) Kill() error {
	populated, err := g.populated()
	if err != nil || !populated {
		return err
	}
	g.killed = true
	if err := os.WriteFile(filepath.Join(g.dir, "cgroup.kill"), []byte("1"), 0); err != nil {
		return fmt.Errorf("killing the step's processes: %w", err)
	}
	// The kernel notifies a change of cgroup.events as POLLPRI; the timeout
	// only guards against a notification lost between read and poll.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if populated, err = g.populated(); err != nil || !populated {
			return err
		}
		fds := []unix.PollFd{{Fd: int32(g.events.Fd()), Events: unix.POLLPRI}}
		if _, err := unix.Poll(fds, 50); err != nil && !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
	return fmt.Errorf("processes of %s still alive 5s after SIGKILL", g.dir)
}

// populated reads cgroup.events: whether a live process is in the cgroup.
func (g *Cgroup) populated() (bool, error) {
	var buf [256]byte
	n, err := g.events.ReadAt(buf[:], 0)
	if n == 0 && err != nil {
		return false, err
	}
	i := bytes.Index(buf[:n], []byte("populated "))
	if i < 0 || i+len("populated ") >= n {
		return false, fmt.Errorf("%s/cgroup.events: no populated field", g.dir)
	}
	return buf[i+len("populated ")] == '1', nil
}

// Release gives the cgroup back. An empty cgroup that was never killed is
// reused for a later step; a killed one is removed, because the kernel
// kills a process cloned into a cgroup that has been killed before.
func (g *Cgroup) Release() {
	p, _ := cgroups()
	if populated, err := g.populated(); err != nil || populated {
		// Left for the guard, which kills it at exit.
		g.close()
		return
	}
	if g.killed {
		g.close()
		removeCgroup(g.dir)
		return
	}
	p.mu.Lock()
	p.free = append(p.free, g)
	p.mu.Unlock()
}

// removeCgroup removes an empty cgroup and the cgroups under it (a flowrun
// run by a step makes its own there), deepest first. The interface files
// in them are not removed: rmdir takes them with the directory.
func removeCgroup(dir string) {
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			if e.IsDir() {
				removeCgroup(filepath.Join(dir, e.Name()))
			}
		}
	}
	os.Remove(dir)
}

func (g *Cgroup) close() {
	g.fd.Close()
	g.events.Close()
}

// cgroupPool hands out the per-step cgroups under one flowrun process's
// directory.
type cgroupPool struct {
	dir  string
	mu   sync.Mutex
	free []*Cgroup
	next int
}

func (p *cgroupPool) get() (*Cgroup, error) {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		g := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return g, nil
	}
	p.next++
	dir := filepath.Join(p.dir, "s"+strconv.Itoa(p.next))
	p.mu.Unlock()
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	fd, err := os.Open(dir)
	if err != nil {
		os.Remove(dir)
		return nil, err
	}
	events, err := os.Open(filepath.Join(dir, "cgroup.events"))
	if err != nil {
		fd.Close()
		os.Remove(dir)
		return nil, err
	}
	return &Cgroup{dir: dir, fd: fd, events: events}, nil
}

var (
	poolOnce sync.Once
	pool     *cgroupPool
	poolErr  error
)

// cgroups sets up this process's cgroup directory and guard, once.
func cgroups() (*cgroupPool, error) {
	poolOnce.Do(func() { pool, poolErr = setupCgroups() })
	return pool, poolErr
}

func setupCgroups() (*cgroupPool, error) {
	if v := os.Getenv("FLOWRUN_CGROUPS"); v == "off" || v == "0" || v == "false" {
		return nil, errors.New("cgroups disabled by FLOWRUN_CGROUPS")
	}
	own, err := ownCgroup()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(own, "flowrun-"+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("cgroup %s is not writable: %w", own, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cgroup.kill")); err != nil {
		os.Remove(dir)
		return nil, errors.New("cgroup.kill is missing (Linux before 5.14)")
	}
	if err := probeClone(dir); err != nil {
		removeCgroup(dir)
		return nil, err
	}
	if err := startGuard(dir); err != nil || guard.dir != dir {
		os.Remove(dir)
		return nil, fmt.Errorf("starting the cgroup guard: %v", err)
	}
	return &cgroupPool{dir: dir}, nil
}

// probeClone starts /bin/true in a cgroup under dir, as every step's
// process will be started: clone3 may be refused (a seccomp filter that
// answers ENOSYS, as container runtimes install) or moving a process there
// forbidden, and a step must not be the first to find out.
func probeClone(dir string) error {
	probe := filepath.Join(dir, "probe")
	if err := os.Mkdir(probe, 0o755); err != nil {
		return err
	}
	defer os.Remove(probe)
	fd, err := os.Open(probe)
	if err != nil {
		return err
	}
	defer fd.Close()
	cmd := exec.Command("/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(fd.Fd())}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("starting a process in a cgroup: %w", err)
	}
	return nil
}

// ownCgroup returns the directory of this process's cgroup v2.
func ownCgroup() (string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	rel, found := "", false
	for line := range strings.Lines(string(b)) {
		if r, ok := strings.CutPrefix(strings.TrimSpace(line), "0::"); ok {
			rel, found = r, true
		}
	}
	if !found {
		return "", errors.New("no cgroup v2 in /proc/self/cgroup")
	}
	mount, root, err := cgroup2Mount()
	if err != nil {
		return "", err
	}
	// A mount of a subtree (a container without its own cgroup namespace)
	// shows the process's path relative to the whole hierarchy.
	sub, ok := strings.CutPrefix(rel, root)
	if !ok {
		return "", fmt.Errorf("cgroup %s is outside the cgroup v2 mount of %s", rel, root)
	}
	return filepath.Join(mount, sub), nil
}

// cgroup2Mount finds where the cgroup v2 hierarchy is mounted, and which
// of its directories is mounted there, from /proc/self/mountinfo:
// "id parent dev root mountpoint opts ... - fstype ...".
func cgroup2Mount() (mount, root string, err error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, typ := strings.Fields(pre), strings.Fields(post)
		if ok && len(fields) >= 5 && len(typ) > 0 && typ[0] == "cgroup2" {
			return fields[4], fields[3], nil
		}
	}
	return "", "", errors.New("cgroup v2 is not mounted")
}
