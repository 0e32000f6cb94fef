//go:build unix

package shell

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/flowrun/flowrun/pkg/steps"
)

func init() {
	steps.Register(steps.Info{
		Type:      "run",
		Doc:       "run a shell script; its stdout is the step's output",
		New:       func() steps.Step { return new(Run) },
		Shorthand: "script",
	})
	steps.Register(steps.Info{
		Type:      "exec",
		Doc:       "run a program with arguments, without a shell; its stdout is the step's output",
		New:       func() steps.Step { return new(Exec) },
		Shorthand: "argv",
	})
}

// Run is the `run` step type: a script run as `<shell> -c <script>`.
//
//	run: ./migrate.sh "$ITEM"
//
//	run:
//	  script: make test
//	  shell: bash -eo pipefail
//	  dir: src
//	  kill_grace: 10s
//
// Expressions in the script reach the shell as environment variables, never
// as text, so an item can never run as code.
type Run struct {
	// Script is the shell code to run.
	Script steps.Script `yaml:"script"`
	// Shell is the interpreter and its options, split on spaces; the script
	// is passed after "-c". Empty means "sh". It is written out in the
	// workflow: an expression cannot choose the interpreter.
	Shell steps.Literal `yaml:"shell"`
	// Dir is the working directory, relative to the workflow's directory;
	// empty means the workflow's directory.
	Dir string `yaml:"dir"`
	// KillGrace is how long the script has to exit after SIGTERM before
	// it is sent SIGKILL; zero means DefaultKillGrace.
	KillGrace steps.Duration `yaml:"kill_grace"`
}

// Validate reports an empty script or a negative kill_grace.
func (r *Run) Validate() error {
	if strings.TrimSpace(string(r.Script)) == "" {
		return errors.New("script is empty")
	}
	if r.Shell != "" && strings.TrimSpace(string(r.Shell)) == "" {
		return errors.New("shell is blank; leave it out to use sh")
	}
	return validateGrace(r.KillGrace)
}

// Run runs the script and returns its stdout as a steps.Text.
func (r *Run) Run(ctx context.Context, in *steps.Input) (any, error) {
	argv := strings.Fields(string(r.Shell))
	if len(argv) == 0 {
		argv = []string{"sh"}
	}
	argv = append(argv, "-c", string(r.Script))
	return newCommand(argv, r.Dir, r.KillGrace).run(ctx, in)
}

// Exec is the `exec` step type: a program started directly, its arguments
// passed as they are, with no shell to interpret them.
//
//	exec: [pg_dump, --schema, "${{ ns.name }}", app]
//
//	exec:
//	  argv: [./verify, --strict]
//	  dir: tools
type Exec struct {
	// Argv is the program and its arguments. A program named without a
	// slash is looked up in the step's PATH; with one, it is relative to
	// Dir.
	Argv []string `yaml:"argv"`
	// Dir is the working directory, relative to the workflow's directory;
	// empty means the workflow's directory.
	Dir string `yaml:"dir"`
	// KillGrace is how long the program has to exit after SIGTERM before
	// it is sent SIGKILL; zero means DefaultKillGrace.
	KillGrace steps.Duration `yaml:"kill_grace"`
}

// Validate reports an empty argv or a negative kill_grace.
func (e *Exec) Validate() error {
	if len(e.Argv) == 0 {
		return errors.New("argv is empty: name the program to run")
	}
	return validateGrace(e.KillGrace)
}

// Run runs the program and returns its stdout as a steps.Text.
func (e *Exec) Run(ctx context.Context, in *steps.Input) (any, error) {
	if len(e.Argv) == 0 {
		return nil, steps.Permanent(errors.New("argv is empty: name the program to run"))
	}
	return newCommand(e.Argv, e.Dir, e.KillGrace).run(ctx, in)
}

func validateGrace(d steps.Duration) error {
	if d < 0 {
		return fmt.Errorf("kill_grace is %v; want zero or more", d)
	}
	return nil
}

var (
	_ steps.Step      = (*Run)(nil)
	_ steps.Validator = (*Run)(nil)
	_ steps.Step      = (*Exec)(nil)
	_ steps.Validator = (*Exec)(nil)
)

// OutputShape says that the output is text (stdout), before `output:`
// reads it as JSON or lines.
func (r *Run) OutputShape() any { return "" }

// OutputShape says that the output is text (stdout), before `output:`
// reads it as JSON or lines.
func (e *Exec) OutputShape() any { return "" }

var (
	_ steps.OutputShaper = (*Run)(nil)
	_ steps.OutputShaper = (*Exec)(nil)
)
