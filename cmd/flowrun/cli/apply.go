package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/flowrun/flowrun/internal/term"
	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// ApplyCmd runs a workflow.
type ApplyCmd struct {
	File    string   `arg:"" name:"file" help:"Workflow file to run." predictor:"file"`
	RunID   string   `arg:"" optional:"" name:"run-id" help:"With --resume: the run to resume, its id or a prefix of it."`
	Set     []string `short:"s" sep:"none" placeholder:"NAME=VALUE|@FILE" help:"Set an input; repeatable. @FILE reads a YAML or JSON mapping of inputs to typed values." `
	Workers *int     `short:"w" env:"FLOWRUN_WORKERS" help:"Default worker count of parallel blocks that set none (default: the number of CPUs)."`
	Output  string   `short:"o" env:"FLOWRUN_OUTPUT" enum:"text,json" default:"text" help:"What to print on stdout: text (the outputs) or json (the run report)."`

	MaxParsedOutput steps.ByteSize `name:"max-parsed-output" placeholder:"SIZE" default:"64MiB" env:"FLOWRUN_MAX_PARSED_OUTPUT" help:"Most memory the parsed value of one output (output: json or lines) or one jsonl item may take, as estimated before parsing; more is an error."`

	Watch watchFlags `embed:""`
	Paths pathFlags  `embed:""`
	NATS  applyNATS  `embed:""`
	State stateFlags `embed:""`
}

// Help shows examples.
func (ApplyCmd) Help() string {
	return `Progress and step logs go to stderr; results go to stdout. Exit status:
0 succeeded, 1 the workflow failed, 2 invalid file or arguments,
130 interrupted by SIGINT or SIGTERM, 129 by SIGHUP, 141 by SIGPIPE (the
first signal cancels running work, runs finally steps and writes the
report; a second SIGINT, SIGTERM or SIGHUP kills child processes at once).

Examples:
  flowrun apply examples/hello.yaml
  flowrun apply migrate.yaml --set source=http://127.0.0.1:8080 --workers 16
  flowrun apply batch.yaml -o json | jq .steps
  flowrun apply migrate.yaml --set @inputs.json --report run.html
  FLOWRUN_PROGRESS=never flowrun apply batch.yaml --verbose
  flowrun apply batch.yaml --nats embed     # then: flowrun worker --nats nats://127.0.0.1:4222
  flowrun apply migrate.yaml --resume
  flowrun apply migrate.yaml --resume 2f9d166581ac

Every run is recorded in the state directory (see 'flowrun runs --help');
a run that failed or was interrupted ends with the command that resumes it.`
}

// Run runs the workflow.
func (c *ApplyCmd) Run(e *env) error {
	wf, err := loadChecked(e, c.File, c.Paths)
	if err != nil {
		return err
	}
	set, err := parseSet(c.Set)
	if err != nil {
		fmt.Fprintf(e.stderr, "flowrun: %v\n", err)
		return exitError{ExitInvalid}
	}
	workers := 0 // the run's default: runtime.NumCPU()
	if c.Workers != nil {
		// Given, it must be a worker count: 0 is not "the default".
		if *c.Workers < 1 || *c.Workers > spec.MaxWorkers {
			fmt.Fprintf(e.stderr, "flowrun: --workers must be from 1 to %d, got %d\n", spec.MaxWorkers, *c.Workers)
			return exitError{ExitInvalid}
		}
		workers = *c.Workers
	}

	if err := checkReports(c.Watch.Report, wf, c.State.dir()); err != nil {
		fmt.Fprintf(e.stderr, "flowrun: %v\n", err)
		return exitError{ExitInvalid}
	}
	if c.MaxParsedOutput <= 0 {
		fmt.Fprintf(e.stderr, "flowrun: --max-parsed-output must be a positive size, got %s\n", c.MaxParsedOutput)
		return exitError{ExitInvalid}
	}
	rc, inputs, err := c.prepare(e, wf, set)
	if err != nil {
		return err
	}
	if err := rc.checkFiles(wf, inputs); err != nil {
		fmt.Fprintf(e.stderr, "flowrun: %v\n", err)
		return exitError{ExitInvalid}
	}
	cl, err := c.NATS.connect(e.stderr, wf, inputs, int64(c.MaxParsedOutput))
	if err != nil {
		fmt.Fprintf(e.stderr, "flowrun: %v\n", err)
		return exitError{ExitInvalid}
	}
	m := secretMasker(e, wf, inputs)
	// The report is written, not read: outputs nothing reads are kept as JSON.
	opts := exec.Options{Inputs: inputs, Workers: workers, Mask: m, ReportFiles: c.Watch.Report, MaxParsed: int64(c.MaxParsedOutput), CompactResults: true}
	var watch *watcher
	warn := func(msg string) {
		if watch != nil {
			watch.log.Warn(msg)
		} else {
			fmt.Fprintf(e.stderr, "flowrun: warning: %s\n", shown(m, msg))
		}
	}
	j, err := rc.open(wf, inputs, m, warn, &opts)
	if err != nil {
		fmt.Fprintf(e.stderr, "flowrun: %v\n", err)
		if err := cl.close(); err != nil {
			fmt.Fprintf(e.stderr, "flowrun: warning: leaving the cluster: %v\n", err)
		}
		return exitError{ExitInvalid}
	}
	watch = newWatcher(e, c.Watch, m)
	intr := interrupts(&env{stderr: watch.out})
	defer intr.stop()
	ctx := intr.ctx
	opts.Kill = intr.kill
	watch.options(&opts)
	cl.options(&opts, watch.obs)
	rep := exec.Run(ctx, wf, opts)
	if err := cl.close(); err != nil {
		fmt.Fprintf(watch.out, "flowrun: warning: leaving the cluster: %v\n", err)
	}
	// Everything below writes the report: mask it once. The run may have
	// learnt more secrets (those of the workflows it called).
	shown := rep.Masked(m)
	if j != nil {
		if err := j.KeepReport(shown); err != nil {
			fmt.Fprintf(watch.out, "flowrun: warning: keeping the report in %s: %v\n", j.Dir(), err)
		}
		if err := j.Close(); err != nil && rep.Status == exec.Succeeded {
			rep.Status, rep.Error = exec.Failed, fmt.Sprintf("recording the run: %v", err)
			shown.Status, shown.Error = rep.Status, m.String(rep.Error)
		}
	}
	watch.finish(wf, shown)
	if c.Output == "json" || len(c.Watch.Report) > 0 {
		warnNonFinite(e.stderr, shown)
	}
	reported := true
	for _, file := range c.Watch.Report {
		if err := writeReport(file, c.State.dir(), shown); err != nil {
			fmt.Fprintf(e.stderr, "flowrun: --report %s: %v\n", file, err)
			reported = false
		}
	}
	out := &errWriter{w: e.stdout}
	if c.Output == "json" {
		if err := writeIndented(out, shown); err != nil && out.err == nil {
			return err // not a write error: a value JSON cannot hold
		}
	} else {
		printOutputs(out, wf, shown)
	}
	if j != nil && rep.Status != exec.Succeeded {
		// Last on stderr, where the person who has to act looks.
		how := c.resumeCommand(j.ID())
		if names := secretNames(wf); len(names) > 0 {
			how += fmt.Sprintf("   (give the secret inputs %s again as you did: only their hashes are recorded)", strings.Join(names, ", "))
		}
		fmt.Fprintf(watch.stderr, "flowrun: to resume this run: %s\n", term.Escape(m.String(how)))
	}
	switch {
	case ctx.Err() != nil:
		return exitError{intr.code()}
	case errors.Is(out.err, syscall.EPIPE):
		// Nobody reads the results (`flowrun apply ... | head -1` after
		// head exited): as a program killed by SIGPIPE would.
		return exitError{ExitBrokenPipe}
	case out.err != nil:
		return out.err
	case rep.Status != exec.Succeeded:
		return exitError{ExitFailed}
	case !reported:
		// The run did its work, but a result asked for is lost.
		fmt.Fprintf(e.stderr, "flowrun: the run succeeded, but a report could not be written\n")
		return exitError{ExitFailed}
	}
	return nil
}

// secretMasker returns a Masker of the workflow's secret inputs, and warns
// about a secret too short to be masked in text (mask.MinLength).
func secretMasker(e *env, wf *spec.Workflow, inputs map[string]any) *mask.Masker {
	m := mask.New()
	for _, in := range wf.Inputs {
		if !in.Secret {
			continue
		}
		short := false
		for _, v := range wf.SecretValues(map[string]any{in.Name: inputs[in.Name]}) {
			short = !m.Add(v) && v != "" || short
		}
		if short {
			fmt.Fprintf(e.stderr, "flowrun: warning: secret input %q has a value shorter than %d characters: it shows as %s in the report's inputs, but is not masked in logs, errors and outputs\n",
				in.Name, mask.MinLength, mask.Replacement)
		}
	}
	return m
}

// parseSet splits NAME=VALUE pairs; values stay strings, typed later by
// the input's declared type. @FILE reads typed values from a YAML or JSON
// mapping; later files win over earlier ones, and NAME=VALUE over files.
func parseSet(pairs []string) (map[string]any, error) {
	files := make(map[string]any)
	out := make(map[string]any, len(pairs))
	for _, p := range pairs {
		if file, ok := strings.CutPrefix(p, "@"); ok {
			vals, err := readSetFile(file)
			if err != nil {
				return nil, err
			}
			maps.Copy(files, vals)
			continue
		}
		name, value, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("--set %q: want NAME=VALUE or @FILE", p)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("--set %s given twice", name)
		}
		out[name] = value
	}
	for k, v := range files {
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	return out, nil
}

// interrupt is how signals stop a run: ctx is cancelled by the first of
// SIGINT, SIGTERM, SIGHUP or SIGPIPE (cancel running work, run finally
// steps, write the report) and kill is closed by a second SIGINT, SIGTERM
// or SIGHUP (kill child processes at once, finally steps included).
// SIGPIPE never escalates: once stderr is a broken pipe, every log line
// flowrun writes raises another, and none of them is a person asking twice.
type interrupt struct {
	ctx  context.Context
	kill <-chan struct{}
	stop func() // releases the signals
	sig  atomic.Value
}

// code is the exit code for the first signal: 128 + its number, the
// shell's convention, except that SIGTERM exits 130 like SIGINT, as
// flowrun always has.
func (in *interrupt) code() int {
	switch in.sig.Load() {
	case syscall.SIGHUP:
		return ExitHangup
	case syscall.SIGPIPE:
		return ExitBrokenPipe
	}
	return ExitInterrupted
}

// interrupts starts listening for signals.
func interrupts(e *env) *interrupt {
	ctx, cancel := context.WithCancelCause(context.Background())
	kill := make(chan struct{})
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGPIPE)
	done := make(chan struct{})
	in := &interrupt{ctx: ctx, kill: kill}
	go func() {
		first := true
		for {
			select {
			case sig := <-sigs:
				if first {
					first = false
					in.sig.Store(sig)
					fmt.Fprintf(e.stderr, "flowrun: %s: cancelling running work, then running finally steps (again to kill at once)\n", sig)
					cancel(exec.ErrInterrupted)
					continue
				}
				if sig == syscall.SIGPIPE {
					continue
				}
				fmt.Fprintf(e.stderr, "flowrun: %s again: killing child processes\n", sig)
				close(kill)
				return
			case <-done:
				return
			}
		}
	}()
	in.stop = func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
	return in
}

// writeIndented writes the report as -o json shows it: report.json's
// JSON (Report.WriteJSON, written without reflection, a result at a time),
// indented. (encoding/json over the report took some 20 µs a result:
// reflection, then a validation and an indentation pass over each
// result's own JSON.)
func writeIndented(w io.Writer, rep *exec.Report) error {
	var compact, indented bytes.Buffer
	if err := rep.WriteJSON(&compact, nil); err != nil {
		return err
	}
	indented.Grow(compact.Len() + compact.Len()/2)
	if err := json.Indent(&indented, compact.Bytes(), "", "  "); err != nil {
		return err
	}
	indented.WriteByte('\n')
	_, err := w.Write(indented.Bytes())
	return err
}

// errWriter keeps the first error of the writes to w and drops the rest.
type errWriter struct {
	w   io.Writer
	err error
}

func (w *errWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.w.Write(p)
	w.err = err
	return n, err
}

// printOutputs prints the workflow's outputs that could be evaluated, one
// `name: value` per line, in the order the file declares them (a null
// value as null); those that could not are in the summary and the report.
// rep is masked; on a terminal, w escapes what it writes (newEnv), and a
// file or a pipe gets the bytes.
func printOutputs(w io.Writer, wf *spec.Workflow, rep *exec.Report) {
	for _, o := range rep.OrderedOutputs() {
		if o.Error == "" {
			fmt.Fprintf(w, "%s: %s\n", o.Name, outputText(o.Value))
		}
	}
}

// outputText is an output's value as printed: as text in a string, and
// null for no value, so that it does not read as an empty string.
func outputText(v any) string {
	if v == nil {
		return "null"
	}
	return spec.Text(v)
}

// warnNonFinite names the values of a report that JSON cannot hold (NaN,
// ±Inf), which the JSON report writes as strings (steps.NonFinite): a
// reader expecting a number should know why it gets "+Inf".
func warnNonFinite(w io.Writer, rep *exec.Report) {
	const most = 5
	n := 0
	rep.NonFinite(func(path string, f float64) {
		if n++; n <= most {
			fmt.Fprintf(w, "flowrun: warning: %s is %s, which JSON cannot hold as a number: the JSON report has the string %q\n", path, steps.FiniteText(f), steps.FiniteText(f))
		}
	})
	if n > most {
		fmt.Fprintf(w, "flowrun: warning: %d more values are NaN or infinite\n", n-most)
	}
}
