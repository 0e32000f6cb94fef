package cli

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/flowrun/flowrun/pkg/durable"
	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/state"
)

// stateFlags are apply's flags about recording and resuming runs.
type stateFlags struct {
	StateDir string `name:"state-dir" placeholder:"DIR" help:"State directory where runs are recorded (default: $FLOWRUN_STATE_DIR, else .flowrun in the working directory)."`
	NoState  bool   `name:"no-state" help:"Do not record the run: no journal, so it cannot be resumed."`
	Resume   bool   `help:"Resume a recorded run of FILE: RUN-ID, else the latest one that did not succeed. What succeeded is not run again; the rest runs, finally steps included."`
}

// dir is the state directory where the run is recorded, as given; ""
// with --no-state.
func (f stateFlags) dir() string {
	if f.NoState {
		return ""
	}
	return state.DirFromEnv(f.StateDir)
}

// recording is how apply records its run: nothing (--no-state), a new
// run, or a resumed one.
type recording struct {
	flags stateFlags
	dir   *state.Dir
	key   mask.Key
	// resume is the run to resume, checked but not yet opened.
	resume *durable.Resumption
	// id is the run's id, fixed before the run is recorded so that the
	// files it names (results_file: runs/${{ run.id }}.jsonl) are checked
	// first (checkFiles).
	id string
}

// prepare checks the state directory before anything runs and, for a
// resume, finds and checks the run. It returns the inputs to run with, or
// the error that ends the command (its message printed): exit 0 for a
// resume of a run that succeeded, exit 2 for what refuses to run.
func (c *ApplyCmd) prepare(e *env, wf *spec.Workflow, set map[string]any) (*recording, map[string]any, error) {
	f := c.State
	if c.RunID != "" && !f.Resume {
		fmt.Fprintf(e.stderr, "flowrun: unexpected argument %q: a run id is read only with --resume\n", c.RunID)
		return nil, nil, exitError{ExitInvalid}
	}
	if f.NoState && f.Resume {
		fmt.Fprintln(e.stderr, "flowrun: --resume reads the run's journal: it cannot go with --no-state")
		return nil, nil, exitError{ExitInvalid}
	}
	rc := &recording{flags: f}
	if !f.NoState {
		rc.dir = state.New(f.dir())
		err := rc.dir.Check()
		if err == nil {
			rc.key, err = mask.LoadKey(rc.dir.Path())
			if err != nil {
				err = fmt.Errorf("state directory %s: the key of secret inputs: %v", rc.dir.Path(), err)
			}
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "flowrun: %v\n", err)
			return nil, nil, exitError{ExitInvalid}
		}
	}
	if !f.Resume {
		inputs, err := wf.ResolveInputs(set)
		if err != nil {
			fmt.Fprintf(e.stderr, "flowrun: %s: %s\n", c.File, strings.ReplaceAll(err.Error(), "\n", "\n  "))
			return nil, nil, exitError{ExitInvalid}
		}
		if rc.dir != nil {
			rc.id = state.NewID()
		}
		return rc, inputs, nil
	}
	p, err := durable.PrepareResume(rc.dir, c.RunID, wf, set, rc.key)
	var done *durable.AlreadySucceeded
	var ie *durable.InputError
	switch {
	case errors.As(err, &done):
		fmt.Fprintf(e.stderr, "flowrun: %v\n", err)
		return nil, nil, exitError{ExitOK}
	case errors.As(err, &ie):
		fmt.Fprintf(e.stderr, "flowrun: %s: %s\n", c.File, strings.ReplaceAll(ie.Error(), "\n", "\n  "))
		return nil, nil, exitError{ExitInvalid}
	case err != nil:
		fmt.Fprintf(e.stderr, "flowrun: %v\n", err)
		return nil, nil, exitError{ExitInvalid}
	}
	rc.resume, rc.id = p, p.ID
	return rc, p.Inputs, nil
}

// checkFiles refuses a run that would write a results_file inside the
// state directory, before the run is recorded (exec.CheckStateDir).
func (rc *recording) checkFiles(wf *spec.Workflow, inputs map[string]any) error {
	if rc.dir == nil {
		return nil // --no-state: no directory to protect
	}
	return exec.CheckStateDir(wf, exec.Options{Inputs: inputs, RunID: rc.id, StateDir: rc.dir.Path()})
}

// open starts recording: it creates the run, or opens the one to resume,
// and sets the run options that record and restore it. A nil Journal
// means the run is not recorded.
func (rc *recording) open(wf *spec.Workflow, inputs map[string]any, m *mask.Masker, warn func(string), opts *exec.Options) (*durable.Journal, error) {
	if rc.dir == nil {
		return nil, nil
	}
	var j *durable.Journal
	if p := rc.resume; p != nil {
		var err error
		if j, err = p.Open(m, warn); err != nil {
			return nil, err
		}
		opts.Restorer = j
	} else {
		run, err := durable.NewRun(wf, inputs, rc.key)
		if err != nil {
			return nil, err
		}
		run.ID, run.FlowrunVersion = rc.id, Version()
		if j, err = durable.Create(rc.dir, run, m, warn); err != nil {
			return nil, err
		}
	}
	opts.RunID, opts.Recorder, opts.StateDir = j.ID(), j, rc.dir.Path()
	return j, nil
}

// resumeCommand is the command line that resumes run id of the workflow
// file: what a failed or interrupted apply prints last. It repeats the
// flags that decide where the run is and how the file loads; inputs come
// from the run's record.
func (c *ApplyCmd) resumeCommand(id string) string {
	args := []string{"flowrun", "apply", shellQuote(c.File), "--resume", id}
	if c.State.StateDir != "" {
		args = append(args, "--state-dir", shellQuote(c.State.StateDir))
	}
	for _, p := range c.Paths.AllowPath {
		args = append(args, "--allow-path", shellQuote(p))
	}
	return strings.Join(args, " ")
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// secretNames lists the workflow's secret inputs, which a resume must be
// given again: only their keyed hashes are recorded.
func secretNames(wf *spec.Workflow) []string {
	var out []string
	for _, in := range wf.Inputs {
		if in.Secret {
			out = append(out, in.Name)
		}
	}
	return out
}
