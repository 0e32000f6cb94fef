package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/flowrun/flowrun/pkg/mask"
)

// Step is one configured unit of work. See the package documentation for
// its lifecycle.
type Step interface {
	// Run does the work for one item and returns its output, which must be
	// representable as JSON (nil, bool, numbers, string, []any,
	// map[string]any, or a struct with json tags). A string output, or a
	// Text, is parsed according to the step's `output:` format.
	//
	// in, and its Log, belong to the step only until Run returns: flowrun
	// reuses them for later items, so a step must not keep them, nor
	// write to Log from a goroutine that outlives the call.
	Run(ctx context.Context, in *Input) (any, error)
}

// Validator is implemented by steps that check their configuration beyond
// what decoding checks. The error is reported at the step's position.
type Validator interface {
	Validate() error
}

// OutputShaper is implemented by step types whose output has a shape
// known before they run, so that an expression reading a field the output
// will not have (steps.total.output.sun) is an error when the workflow is
// validated, not a null at run time. flowrun calls OutputShape on a value
// decoded from the step's configuration with every expression left at its
// zero value. It returns a sample of the output: a map whose keys are the
// keys the output will have (an empty map: any keys), a struct with json
// tags, a string, a number, a boolean, a slice, or nil for "anything".
type OutputShaper interface {
	OutputShape() any
}

// Cleaner is implemented by steps that hold resources across items. Cleanup
// is called once, after the last item of the step finished.
type Cleaner interface {
	Cleanup() error
}

// Input is what a step receives for one item.
type Input struct {
	// StepID is the id of the step in the workflow.
	StepID string
	// Index is the item's index in its parallel block, or -1 for a step
	// that is not a parallel block.
	Index int
	// Key is the item's stable identity (its `key:` or its index).
	Key string
	// Item is the item value; nil outside a parallel block.
	Item any
	// Attempt counts from 1; it is above 1 when the step is retried.
	Attempt int
	// Env is the environment shared by every item of the step, "NAME=value"
	// entries: the process environment and the workflow's and the step's
	// env:. It is shared: never modify it. A child process should get
	// Environ(), which adds the item's own variables.
	Env []string
	// Vars are the item's own "NAME=value" entries besides ITEM and INDEX:
	// the variables that Script fields refer to.
	Vars []string
	// Dir is the directory of the workflow file; relative paths resolve
	// against it.
	Dir string
	// Log receives the step's diagnostic output (a child's stderr). Each
	// line is prefixed with the step id and item index by flowrun. It is
	// safe for concurrent use.
	Log io.Writer
	// Resources are shared by all steps of a run; see Resources.
	Resources *Resources
	// Mask masks the run's secrets, then the credentials of URLs, in text
	// a step quotes in its error (a child's last stderr line, a response
	// body, a URL). Mask before cutting or reshaping such text: a secret
	// cut in two, or with its spaces collapsed, is no longer recognised
	// (mask.Masker.Head masks, then cuts). flowrun masks everything it
	// writes again; this is for what a step cuts first. Its methods work
	// on nil, which masks no secret but still redacts URLs.
	Mask *mask.Masker
	// Kill is closed when work that is already cancelled must stop at once,
	// without the grace period a child process normally gets after SIGTERM
	// (the operator interrupted twice). It may be nil.
	Kill <-chan struct{}
	// OutputUnread says that no expression reads the output: flowrun only
	// writes it (report, journal, results file) as JSON. A step may then
	// return parts of it as a json.RawMessage holding valid JSON — text it
	// received as JSON — rather than decode what nobody evaluates; flowrun
	// writes that text as it is (compacted). Otherwise values must be
	// plain (see DecodeJSON). A step may also return its whole output
	// written as JSON by package stepjson, which flowrun keeps as it is
	// (the http step does).
	OutputUnread bool
	// OutputDiscarded says that nothing reads or writes the output of a
	// successful attempt either: its block keeps only failures (results:
	// failures, no results_file) and no expression reads its outputs. A
	// step may then return nil rather than build what would be dropped;
	// it still checks all it would check otherwise, so that an item
	// succeeds or fails as it would with its output kept.
	OutputDiscarded bool
	// MaxParsed bounds the memory a value the step parses from what it
	// received may take (a JSON body: steps.JSONCost), so that a small
	// text cannot become a huge value; 0 means no bound. flowrun sets it
	// from --max-parsed-output.
	MaxParsed int64
	// Outcome is the one field Run may write: how its attempt ended, for
	// the counts of a block's summary (see Outcome). flowrun clears it
	// before each attempt and reads it after.
	Outcome Outcome
}

// EnvItemKey is the variable holding the item's key in Environ.
const EnvItemKey = "FLOWRUN_ITEM_KEY"

// Environ returns the complete environment for a child process: Env, then
// ITEM (the item, JSON unless it is a string), INDEX and FLOWRUN_ITEM_KEY
// (its Key) inside a parallel block, then Vars. It builds a new slice on
// each call, so items that never start a process pay nothing for it.
func (in *Input) Environ() []string {
	out := make([]string, 0, len(in.Env)+3+len(in.Vars))
	out = append(out, in.Env...)
	if in.Index >= 0 {
		out = append(out, "ITEM="+itemText(in.Item), "INDEX="+strconv.Itoa(in.Index), EnvItemKey+"="+in.Key)
	}
	return append(out, in.Vars...)
}

// itemText is the item as the ITEM variable holds it.
func itemText(item any) string {
	switch v := item.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	}
	b, err := json.Marshal(NonFinite(item, "", nil))
	if err != nil {
		return fmt.Sprint(item)
	}
	return string(b)
}

// Script is a string field whose expressions are passed through the
// environment instead of being pasted into the text. Use it for anything
// that a shell or another interpreter will parse.
type Script string

// Literal is a string field that must be written in the workflow as it
// is: it cannot hold an expression. Use it for what decides which program
// runs (an interpreter and its options), so that neither data nor an item
// can choose it.
type Literal string

// Duration is a time.Duration written as "500ms", "2s", "1m30s" in a workflow.
type Duration = time.Duration

// permanent marks an error that retrying cannot fix.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so that flowrun does not retry the attempt that
// returned it (an HTTP 404, a failed assertion). Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}
