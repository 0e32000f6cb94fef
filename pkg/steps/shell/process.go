//go:build unix

package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/flowrun/flowrun/pkg/steps"
)

// MaxOutput is the most stdout a step keeps, in bytes. A command that
// writes more fails rather than silently losing the rest; a large result
// belongs in a file.
const MaxOutput = 64 << 20

// DefaultKillGrace is how long a command gets between SIGTERM and SIGKILL
// when its step sets no kill_grace.
const DefaultKillGrace = 2 * time.Second

// defaultPath is the search path when the child's environment has no PATH,
// as in glibc's execvp.
const defaultPath = "/bin:/usr/bin"

// command is one child process to run for one item.
type command struct {
	argv      []string
	dir       string // resolved against Input.Dir by run
	grace     time.Duration
	maxStdout int
}

// newCommand builds the command shared by Run and Exec.
func newCommand(argv []string, dir string, grace steps.Duration) command {
	if grace <= 0 {
		grace = DefaultKillGrace
	}
	return command{argv: argv, dir: dir, grace: grace, maxStdout: MaxOutput}
}

// run starts the command, waits for it and stops its whole process group.
// It returns the captured stdout as a steps.Text.
func (c command) run(ctx context.Context, in *steps.Input) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	env := in.Environ()
	if env == nil {
		env = []string{} // nil would make os/exec pass flowrun's own environment
	}
	path, err := lookPath(c.argv[0], env)
	if err != nil {
		return nil, steps.Permanent(err)
	}
	dir := resolveDir(in.Dir, c.dir)
	if err := checkDir(dir, c.dir); err != nil {
		return nil, steps.Permanent(err)
	}
	logw := in.Log
	if logw == nil {
		logw = io.Discard
	}

	// The pipes are ours rather than os/exec's so that Wait returns as soon
	// as the child exits: a background grandchild holding stdout open must
	// not keep the step running, it is killed with the tree below.
	stdoutR, stdoutW, err := newPipe()
	if err != nil {
		return nil, err
	}
	stderrR, stderrW, err := newPipe()
	if err != nil {
		stdoutR.Close()
		stdoutW.Close()
		return nil, err
	}

	stopping := make(chan struct{}) // closed by Cancel
	cmd := exec.CommandContext(ctx, path)
	cmd.Args = c.argv
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout = stdoutW
	cmd.Stderr = stderrW
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	tree := newTree(cmd.SysProcAttr)
	defer tree.release()
	cmd.Cancel = func() error {
		close(stopping)
		sig := syscall.SIGTERM
		if isClosed(in.Kill) {
			sig = syscall.SIGKILL
		}
		return signalGroup(cmd.Process.Pid, sig)
	}
	// After Cancel, os/exec waits WaitDelay and then SIGKILLs the child; the
	// rest of its group follows as soon as Wait sees it exit.
	cmd.WaitDelay = c.grace

	err = cmd.Start()
	stdoutW.Close()
	stderrW.Close()
	if err != nil {
		stdoutR.Close()
		stderrR.Close()
		return nil, err
	}
	pgid := cmd.Process.Pid
	tree.started(pgid)

	var wg sync.WaitGroup
	stdout := &capture{limit: c.maxStdout}
	stderr := &stderrLog{w: logw, mask: in.Mask}
	stdoutR.read(&wg, stdout.readFrom)
	stderrR.read(&wg, stderr.readFrom)
	exited := make(chan struct{})
	if in.Kill != nil {
		// A second interrupt during the grace period skips the rest of it.
		wg.Go(func() {
			select {
			case <-exited:
				return
			case <-stopping:
			}
			select {
			case <-exited:
			case <-in.Kill:
				signalGroup(pgid, syscall.SIGKILL)
			}
		})
	}

	// The step is over when its process exits: what it left behind is
	// killed now, then the pipes are drained of what was written before.
	waitErr := cmd.Wait()
	close(exited)
	if err := tree.kill(); err != nil {
		fmt.Fprintln(logw, err)
	}
	if !drain(&wg, stdoutR, stderrR) {
		io.WriteString(logw, "flowrun: a process that left the step's process group kept its output open; stopped reading\n")
	}
	stdoutR.Close()
	stderrR.Close()

	return c.result(ctx, waitErr, stdout, stderr)
}

// result turns the outcome of Wait into the step's output or error.
func (c command) result(ctx context.Context, waitErr error, stdout *capture, stderr *stderrLog) (any, error) {
	var exitErr *ExitError
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) {
		exitErr = newExitError(ee.ProcessState, stderr.tail())
	}
	switch {
	case waitErr != nil && ctx.Err() != nil:
		// Cancelled work is reported as cancelled, not as a failure, even
		// though the process died of our signal.
		if exitErr != nil {
			return nil, fmt.Errorf("%w (%w)", ctx.Err(), exitErr)
		}
		return nil, ctx.Err()
	case stdout.exceeded:
		return nil, fmt.Errorf("stdout exceeded %s; write large results to a file instead", size(c.maxStdout))
	case exitErr != nil:
		return nil, exitErr
	case waitErr != nil:
		return nil, waitErr
	}
	return stdout.text(), nil
}

// size formats a byte count for a person.
func size(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// signalGroup sends sig to every process in the group pgid.
func signalGroup(pgid int, sig syscall.Signal) error {
	err := syscall.Kill(-pgid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return os.ErrProcessDone
	}
	return err
}

// isClosed reports whether ch is closed; a nil channel never is.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// resolveDir returns dir resolved against base, the workflow's directory.
func resolveDir(base, dir string) string {
	switch {
	case dir == "":
		return base
	case filepath.IsAbs(dir):
		return dir
	}
	return filepath.Join(base, dir)
}

// checkDir explains a working directory the child cannot start in, which
// os/exec would report as the program not existing ("fork/exec
// /usr/bin/sh: no such file or directory"). written is dir as the step
// spells it.
func checkDir(dir, written string) error {
	if dir == "" {
		return nil
	}
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("dir %q: no such directory: %s", written, dir)
	case err != nil:
		return fmt.Errorf("dir %q: %w", written, err)
	case !info.IsDir():
		return fmt.Errorf("dir %q: %s is not a directory", written, dir)
	}
	return nil
}

// lookPath finds file in the PATH of env, the child's environment, rather
// than flowrun's own. Relative PATH entries are skipped, as os/exec refuses
// them: they would resolve against a directory nobody chose.
func lookPath(file string, env []string) (string, error) {
	if file == "" {
		return "", errors.New("no program to run: the first argument is empty")
	}
	if strings.Contains(file, "/") {
		return file, nil
	}
	path, found := defaultPath, false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path, found = v, true // the last entry wins, as in os/exec
		}
	}
	if found && path == "" {
		path = defaultPath
	}
	for _, dir := range filepath.SplitList(path) {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, file)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &exec.Error{Name: file, Err: exec.ErrNotFound}
}
