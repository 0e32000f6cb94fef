package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/alecthomas/kong"
	"github.com/posener/complete"
	"github.com/willabides/kongplete"

	"github.com/flowrun/flowrun/internal/term"
)

// Exit codes, as documented in the README.
const (
	ExitOK          = 0
	ExitFailed      = 1   // the workflow ran and failed
	ExitInvalid     = 2   // the file or the command line is invalid
	ExitInterrupted = 130 // SIGINT or SIGTERM
	ExitHangup      = 129 // SIGHUP: the terminal closed
	ExitBrokenPipe  = 141 // SIGPIPE: stdout or stderr is a pipe nobody reads
)

// CLI is the command tree.
type CLI struct {
	Apply    ApplyCmd    `cmd:"" help:"Run a workflow."`
	Validate ValidateCmd `cmd:"" help:"Check workflow files without running them."`
	Plan     PlanCmd     `cmd:"" help:"Print a workflow's steps in run order, without running them."`
	Graph    GraphCmd    `cmd:"" help:"Print a workflow's DAG as Mermaid or Graphviz DOT."`
	Runs     RunsCmd     `cmd:"" help:"List, show and prune recorded runs."`
	Worker   WorkerCmd   `cmd:"" help:"Run items of parallel blocks for runs started with apply --nats."`
	Schema   SchemaCmd   `cmd:"" help:"Print the JSON schema of workflow files."`
	Steps    StepsCmd    `cmd:"" help:"List the step types this flowrun knows."`
	Version  VersionCmd  `cmd:"" help:"Print the version."`

	Completion CompletionCmd `cmd:"" help:"Print a shell completion script (bash, zsh or fish)."`
}

// env carries the process's streams to the commands.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// stderrTTY says whether stderr is a terminal, decided once, on the
	// file itself, before anything wraps it: live progress and colour
	// depend on it. stdout on a terminal is escaped (newEnv).
	stderrTTY bool
}

// newEnv returns the streams the commands write to. When stdout is a
// terminal, everything written to it is escaped (term.Writer): an output,
// a plan or a graph holding an escape sequence or a bidirectional
// override shows it as <U+001B> instead of obeying it, whatever the
// command. Elsewhere (a file, a pipe) stdout keeps the bytes. flush
// writes what the escaper holds (a character cut between two writes).
func newEnv(stdin io.Reader, stdout, stderr io.Writer) (e *env, flush func()) {
	e = &env{stdin: stdin, stdout: stdout, stderr: stderr, stderrTTY: isTerminal(stderr)}
	flush = func() {}
	if isTerminal(stdout) {
		tw := term.NewWriter(stdout)
		e.stdout, flush = tw, func() { _ = tw.Flush() }
	}
	return e, flush
}

// exitError ends a command with a specific exit code; its message, if any,
// has already been printed.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Main runs the command line of the current process and exits.
func Main() {
	os.Exit(Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// newParser builds the command line's parser over cli.
func newParser(cli *CLI, stdout, stderr io.Writer, opts ...kong.Option) (*kong.Kong, error) {
	return kong.New(cli, append([]kong.Option{
		kong.Name("flowrun"),
		kong.Description("flowrun runs declarative pipelines written as YAML workflow files."),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Writers(stdout, stderr),
	}, opts...)...)
}

// Parse checks that args is a command line flowrun accepts — the command
// exists, every flag is known and well typed — without running anything.
// The README's commands are checked with it.
func Parse(args []string) error {
	var cli CLI
	parser, err := newParser(&cli, io.Discard, io.Discard, kong.Exit(func(int) {}))
	if err != nil {
		return err
	}
	_, err = parser.Parse(args)
	return err
}

// Run runs flowrun with args and returns the exit code.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	var cli CLI
	exited := false
	e, flush := newEnv(stdin, stdout, stderr)
	defer flush()
	parser, err := newParser(&cli, e.stdout, stderr,
		kong.Exit(func(c int) { exited, code = true, c; panic(exitError{c}) }),
		kong.Bind(e),
	)
	if err != nil {
		fmt.Fprintf(stderr, "flowrun: %v\n", err)
		return ExitInvalid
	}
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(exitError); ok && exited {
				return
			}
			panic(p)
		}
	}()
	// Run by the shell to complete a command line (COMP_LINE set): print
	// the candidates and exit.
	kongplete.Complete(parser, kongplete.WithPredictor("file", complete.PredictFiles("*.y*ml")))
	kctx, err := parser.Parse(args)
	if err != nil {
		usageError(stderr, args, err)
		return ExitInvalid
	}
	err = kctx.Run()
	var ee exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	default:
		fmt.Fprintf(stderr, "flowrun: %v\n", err)
		return ExitInvalid
	}
}

// usageError reports a command line kong could not parse: the usage when
// no command was given at all, else the error and where help is.
func usageError(stderr io.Writer, args []string, err error) {
	var pe *kong.ParseError
	var kctx *kong.Context
	if errors.As(err, &pe) {
		kctx = pe.Context
	}
	if len(args) == 0 && kctx != nil {
		kctx.Kong.Stdout = stderr // usage for a mistake is not a result
		_ = kctx.PrintUsage(true)
		fmt.Fprintln(stderr)
	}
	fmt.Fprintf(stderr, "flowrun: %v\n", err)
	path := "flowrun"
	if kctx != nil && kctx.Selected() != nil {
		path = kctx.Selected().FullPath()
	}
	fmt.Fprintf(stderr, "run '%s --help' for usage\n", path)
}
