package exec

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// Options configure a run.
type Options struct {
	// Inputs are the resolved input values (spec.Workflow.ResolveInputs).
	Inputs map[string]any
	// Workers is the worker count of parallel blocks that set none; 0
	// means runtime.NumCPU().
	Workers int
	// Log receives the steps' diagnostic output (children's stderr), one
	// prefixed line at a time; nil discards it.
	Log io.Writer
	// QuietItems keeps the log lines of parallel blocks' items off Log, so
	// that a long block does not flood it; a failed item's last lines are
	// still in its ItemResult.LogTail.
	QuietItems bool
	// Observer is told about progress; nil means nobody listens.
	Observer Observer
	// Kill, when closed, stops cancelled work at once (no grace period for
	// child processes) and cancels finally steps too: the second interrupt.
	Kill <-chan struct{}
	// Environ is the base environment of child processes; nil means
	// os.Environ().
	Environ []string
	// Mask masks secrets in what the run writes: its log lines, the log
	// tails of items and results files. Run adds the values of the
	// workflow's secret inputs to it; nil means a Masker of those alone.
	// The Report is not masked (expressions read it): mask it with
	// Report.Masked before writing it.
	Mask *mask.Masker
	// Dispatcher runs the items of parallel blocks; nil means the local
	// pool, in this process.
	Dispatcher Dispatcher
	// Recorder is told of every final result (item, step, run) besides
	// the report; nil means none.
	Recorder Recorder
	// MaxParsed bounds the memory of one parsed output (output: json or
	// lines) and of one jsonl item; 0 means DefaultMaxParsed.
	MaxParsed int64
	// CompactResults keeps the outputs of a parallel block that no
	// expression reads (spec.Parallel.OutputsRead is false) as their JSON,
	// a json.RawMessage in ItemResult.Output, rather than as decoded
	// values: the report writes them the same, and they take a fraction
	// of the memory (a decoded JSON object is several times its text).
	// The items of a block that keeps only its failures (results:
	// failures, no results_file) are told that their outputs are dropped
	// (steps.Input.OutputDiscarded): a step may then build none, and an
	// Observer sees ItemResult.Output nil for their successes. For
	// callers that write the report rather than read its values.
	CompactResults bool
	// ReportFiles are the files the caller writes the report to when the
	// run ends: a results_file whose path is computed when the run
	// starts must not be one of them (the caller checks literal paths
	// against FileUses before the run).
	ReportFiles []string
	// StateDir is the directory where the caller records its runs (the
	// journal, run.json and report.json of each, the key of secret
	// inputs); no results_file of the run may be inside it (see
	// CheckStateDir). Empty when the run is not recorded.
	StateDir string
	// Restorer, for a resumed run, hands it what earlier attempts at it
	// recorded, so that what succeeded then does not run again; nil means
	// a run from scratch.
	Restorer Restorer
	// RunID is the run's id: run.id for expressions, FLOWRUN_RUN_ID for
	// child processes, the report's run_id. Empty means a new random id.
	RunID string

	// shared, when set, are the calling run's resources: a workflow called
	// through uses: reuses its caller's connections.
	shared *steps.Resources
	// called bounds the finally steps by ctx (see finallyStop).
	called bool
	// origin is the caller's, for a workflow called by a single uses:
	// step (see origin).
	origin *origin
	// claims are the top-level run's file claims, and chain the calls
	// that lead from it to this run (files.go).
	claims *fileClaims
	chain  []spec.CallSite
	// hooks let this package's tests lower limits and watch syncs.
	hooks hooks
}

// Observer is told about a run's progress. Its methods may be called from
// many goroutines at once and must return quickly. StepStarted's items is
// -1 for a step that is not a parallel block, and also for a block whose
// item count is known only at its end (items_from). ItemFinished is called
// for every item, kept or not; r may be reused once it returns (a block
// that keeps only failures recycles it), so copy what you keep.
type Observer interface {
	StepStarted(s *spec.Step, items int)
	ItemFinished(s *spec.Step, r *ItemResult)
	StepFinished(s *spec.Step, r *StepReport)
}

// ItemStarter is an Observer that is also told when an item of a parallel
// block starts, so that it can count the items in flight.
type ItemStarter interface {
	ItemStarted(s *spec.Step, index int)
}

// EnvRunID and EnvItemKey name the environment variables that tell a
// child process which run it belongs to and which item of its block it
// runs (steps.Input.Environ adds the key), so that a step can make itself
// idempotent: a resumed run may run an item again (at-least-once).
const (
	EnvRunID   = "FLOWRUN_RUN_ID"
	EnvItemKey = steps.EnvItemKey
)

// ErrInterrupted is the cause of a run cancelled from outside, through the
// context passed to Run.
var ErrInterrupted = errors.New("interrupted")

// run is the state of one Run call.
type run struct {
	wf      *spec.Workflow
	opts    Options
	report  *Report
	inputs  map[string]any
	env     map[string]any // workflow env, evaluated
	environ []string       // base environment of child processes
	log     *lineWriter
	mask    *mask.Masker
	res     *steps.Resources
	steps   map[string]*stepRun
	status  Status // run.status as finally steps see it
	runInfo spec.RunInfo
	ir      *ItemRunner // built once the workflow's env is known
	// recordErr is the first error of the Recorder's StepDone.
	recordErr atomic.Pointer[error]
	// claims are the files the top-level run uses (files.go);
	// resultsPaths the path of each block's results_file, decided when
	// the run starts.
	claims       *fileClaims
	resultsPaths map[string]string
}

// stepRun is a step's report plus the channel closed when it is done.
type stepRun struct {
	step   *spec.Step
	report *StepReport
	done   chan struct{}
	once   sync.Once
	val    map[string]any
	// failedUp and cancelledUp name a step at or upstream of this one, in
	// its list, that failed and that was cancelled, or are "": set before
	// done is closed (status.go).
	failedUp, cancelledUp string
}

// scopeValue is steps.<id> for expressions, computed once when read.
func (sr *stepRun) scopeValue() map[string]any {
	sr.once.Do(func() { sr.val = sr.report.value() })
	return sr.val
}

// Run runs a workflow and returns its report; it never returns nil. The
// main steps run under ctx: cancelling it interrupts the run, which then
// reports Cancelled; finally steps run all the same, until opts.Kill.
func Run(ctx context.Context, wf *spec.Workflow, opts Options) *Report {
	r := &run{
		wf:     wf,
		opts:   opts,
		inputs: opts.Inputs,
		steps:  make(map[string]*stepRun),
		report: &Report{Workflow: wf.Name, File: wf.File, RunID: opts.RunID, StartedAt: time.Now(), Inputs: secretInputs(wf, opts.Inputs), Outputs: map[string]any{}},
		res:    opts.shared,
		log:    newLineWriter(opts.Log),
		mask:   newMasker(wf, opts),
		claims: opts.claims,

		resultsPaths: make(map[string]string),
	}
	if r.claims == nil && !opts.called {
		r.claims = newFileClaims(wf, opts.ReportFiles, opts.StateDir)
	}
	if r.inputs == nil {
		r.inputs = map[string]any{}
	}
	if r.report.RunID == "" {
		r.report.RunID = newRunID()
	}
	if r.opts.Workers <= 0 {
		r.opts.Workers = runtime.NumCPU()
	}
	r.environ = opts.Environ
	if r.environ == nil {
		r.environ = os.Environ()
	}
	r.runInfo = spec.RunInfo{ID: r.report.RunID, Status: string(Running)}
	for _, s := range append(append([]*spec.Step{}, wf.Steps...), wf.Finally...) {
		sr := &stepRun{step: s, report: newStepReport(s), done: make(chan struct{})}
		r.steps[s.ID] = sr
		r.report.Steps = append(r.report.Steps, sr.report)
	}
	start := time.Now()
	base := len(r.environ)
	if !opts.called {
		// A called workflow's environment is its caller's: it has it.
		// Added after base, it travels with the run's env to a worker.
		r.environ = append(slices.Clip(r.environ), EnvRunID+"="+r.report.RunID)
	}
	err, why := r.evalWorkflowEnv(), "the workflow env could not be evaluated"
	if r.res == nil {
		// After the env: a workers: expression of inputs and env sizes
		// the pool (maxWorkers).
		var vars map[string]any
		if err == nil {
			vars = r.scope(nil).Vars()
		}
		r.res = &steps.Resources{Workers: maxWorkers(wf, opts, vars)}
		defer r.res.Close()
	}
	if err == nil {
		err, why = r.prepareFiles(), "a results_file cannot be written"
	}
	r.ir = &ItemRunner{
		Dir: wf.Dir, File: wf.File, Environ: r.environ, QuietItems: opts.QuietItems,
		Resources: r.res, Kill: opts.Kill, Workers: r.opts.Workers, Start: r.report.StartedAt,
		Mask: r.mask, lines: r.log, wf: wf, claims: r.claims, chain: opts.chain, MaxParsed: opts.MaxParsed,
		CompactOutputs: opts.CompactResults,
		dispatcher:     opts.Dispatcher, origin: newOrigin(opts.origin, r.report.RunID, r.environ[base:]),
	}
	// Finally steps, and main steps whose if: calls always() or
	// cancelled(), run under a context that an interrupt does not cancel:
	// only the Kill channel does, and for a called workflow also the end
	// of the calling item (finallyStop).
	detached := ctx
	if len(wf.Finally) > 0 || needsDetached(wf.Steps) {
		dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() {
			select {
			case <-finallyStop(ctx, opts, done):
				cancel()
			case <-done:
			}
		}()
		defer func() {
			close(done)
			cancel()
		}()
		detached = dctx
	}
	if err != nil {
		r.report.Status, r.report.Error = Failed, err.Error()
		r.cancelAll(wf.Steps, why)
	} else {
		r.report.Status = r.runSteps(ctx, detached, wf.Steps)
	}
	if ctx.Err() != nil && r.report.Status != Failed {
		r.report.Status = Cancelled
		if r.report.Error == "" {
			r.report.Error = "interrupted"
		}
	}

	// Finally steps run whatever happened.
	r.status = r.report.Status
	r.runInfo = spec.RunInfo{ID: r.report.RunID, Status: string(r.status)}
	if len(wf.Finally) > 0 {
		if st := r.runSteps(detached, detached, wf.Finally); st == Failed && r.report.Status == Succeeded {
			r.report.Status = Failed
		}
	}
	r.evalOutputs()
	r.report.DurationMS = ms(time.Since(start))
	// A result that could not be recorded fails the run, even when the
	// step it belongs to had already failed or was cancelled.
	if err := r.recordErr.Load(); err != nil && r.report.Status != Failed {
		r.report.Status, r.report.Error = Failed, (*err).Error()
	}
	if r.report.Error == "" && r.report.Status == Failed {
		r.report.Error = r.firstError()
	}
	if rec := r.opts.Recorder; rec != nil {
		if err := rec.RunDone(r.report); err != nil && r.report.Status == Succeeded {
			r.report.Status, r.report.Error = Failed, fmt.Sprintf("recording the run: %v", err)
		}
	}
	return r.report
}

func newRunID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// scope is the run's scope with stepValues as steps.<id>.
func (r *run) scope(stepValues map[string]any) *spec.Scope {
	return &spec.Scope{Inputs: r.inputs, Env: r.env, Steps: stepValues, Run: r.runInfo}
}

func (r *run) evalWorkflowEnv() error {
	r.env = make(map[string]any, len(r.wf.Env))
	vars := r.scope(nil).Vars()
	for _, e := range r.wf.Env {
		v, err := e.Value.Eval(vars)
		if err != nil {
			return err
		}
		r.env[e.Name] = spec.Text(v)
		r.environ = append(r.environ, e.Name+"="+spec.Text(v))
	}
	return nil
}

// runSteps schedules a list of steps as a DAG: each starts when its
// dependencies are done, and the status rule (status.go) decides whether
// it runs. The first failure cancels the rest, but for the steps whose
// if: calls a status function. outer is the list's context; detached is
// the context of the steps an interrupt does not stop. It returns Failed
// if any step failed, else Succeeded.
func (r *run) runSteps(outer, detached context.Context, list []*spec.Step) Status {
	failCtx, cancel := context.WithCancelCause(outer)
	defer cancel(nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := false
	for _, s := range list {
		sr := r.steps[s.ID]
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.runStep(stepContext(s, failCtx, outer, detached), outer, sr)
			r.settle(sr)
			close(sr.done)
			if sr.report.Status == Failed {
				mu.Lock()
				failed = true
				mu.Unlock()
				cancel(fmt.Errorf("step %q failed", s.ID))
			}
		}()
	}
	wg.Wait()
	if failed {
		return Failed
	}
	return Succeeded
}

// runStep waits for the step's dependencies, then runs, skips or cancels
// it by the status rule (status.go). ctx is the step's context; outer
// tells whether the run was interrupted, for cancelled().
func (r *run) runStep(ctx, outer context.Context, sr *stepRun) {
	s, rep := sr.step, sr.report
	// Every dependency ends, whatever happens: wait for all of them, so
	// that what becomes of this step depends on their statuses only.
	for _, d := range s.Deps {
		<-r.steps[d.ID].done
	}
	funcs := s.StatusFuncs()
	if funcs == 0 {
		if reason := r.blocked(sr); reason != "" {
			r.finish(sr, Skipped, reason, "")
			return
		}
	}
	deps := make(map[string]any, len(s.Deps))
	for _, d := range s.Deps {
		// A step with a status function, like a finally step reading
		// main steps, and one that reads steps whole (its dependencies
		// on the order only) read their dependencies whatever became
		// of them.
		if dep := r.steps[d.ID]; funcs != 0 || d.Order || dep.report.Status == Succeeded || !inList(sr, dep) {
			deps[d.ID] = dep.scopeValue()
		}
	}
	if err := r.checkKept(fmt.Sprintf("step %q", s.ID), s.Exprs()); err != nil {
		r.finish(sr, Failed, "", err.Error())
		return
	}
	scope := r.scope(deps)
	if s.If != nil {
		vars := scope.Vars()
		if funcs != 0 {
			vars = spec.StatusVars(vars, r.statusState(sr, outer.Err() != nil))
		}
		ok, err := s.If.Eval(vars)
		if err != nil {
			r.finish(sr, Failed, "", err.Error())
			return
		}
		if ok != true {
			r.finish(sr, Skipped, fmt.Sprintf("if: %s was false", strings.TrimSpace(s.If.Source)), "")
			return
		}
	}
	// Ready to run: a step the run's failure or interrupt caught here is
	// cancelled.
	if ctx.Err() != nil {
		r.finish(sr, Cancelled, reasonFor(ctx), "")
		return
	}
	prior := 0
	if s.Parallel == nil {
		var restored bool
		if restored, prior = r.restoreStep(s, rep); restored {
			if obs := r.opts.Observer; obs != nil {
				obs.StepFinished(s, rep)
			}
			r.recordStep(s, rep)
			return
		}
	}
	rep.Status, rep.StartedAt = Running, time.Now()
	b, err := r.ir.Bind(s, scope)
	if err != nil {
		r.finish(sr, Failed, "", err.Error())
		return
	}
	if s.Parallel != nil {
		r.runBlock(ctx, b, rep)
	} else {
		r.runSingle(ctx, b, rep, prior)
	}
	{
		if err := b.Cleanup(); err != nil && rep.Status == Succeeded {
			rep.Status, rep.Error = Failed, fmt.Sprintf("%s: step %q cleanup: %v", s.Pos, s.ID, err)
		}
	}
	rep.DurationMS = ms(time.Since(rep.StartedAt))
	if obs := r.opts.Observer; obs != nil {
		obs.StepFinished(s, rep)
	}
	r.recordStep(s, rep)
}

// recordStep tells the Recorder that a step's report is final; a step it
// could not record does not stay succeeded.
func (r *run) recordStep(s *spec.Step, rep *StepReport) {
	if r.opts.Recorder == nil {
		return
	}
	if err := r.opts.Recorder.StepDone(s, rep); err != nil {
		err = fmt.Errorf("%s: step %q: recording the result: %w", s.Pos, s.ID, err)
		if rep.Status == Succeeded {
			rep.Status, rep.Error = Failed, err.Error()
		}
		r.recordErr.CompareAndSwap(nil, &err)
	}
}

// reasonFor explains why work under ctx was cancelled.
func reasonFor(ctx context.Context) string {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause.Error()
	}
	return "the run was interrupted"
}

// finish records a step that ends without running.
func (r *run) finish(sr *stepRun, st Status, reason, errText string) {
	sr.report.Status, sr.report.Reason, sr.report.Error = st, reason, errText
	if obs := r.opts.Observer; obs != nil {
		obs.StepFinished(sr.step, sr.report)
	}
	r.recordStep(sr.step, sr.report)
}

func (r *run) cancelAll(list []*spec.Step, reason string) {
	for _, s := range list {
		sr := r.steps[s.ID]
		sr.report.Status, sr.report.Reason = Cancelled, reason
		r.recordStep(s, sr.report)
		close(sr.done)
	}
}

func (r *run) firstError() string {
	for _, s := range r.report.Steps {
		if s.Status == Failed && s.Error != "" {
			return s.Error
		}
	}
	return "the run failed"
}
