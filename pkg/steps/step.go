package steps

import (
	"context"
	"errors"
	"io"
	"time"
)

// Step is one configured unit of work. See the package documentation for
// its lifecycle.
type Step interface {
	// Run does the work for one item and returns its output, which must be
	// representable as JSON (nil, bool, numbers, string, []any,
	// map[string]any, or a struct with json tags). A string output is
	// parsed according to the step's `output:` format.
	Run(ctx context.Context, in *Input) (any, error)
}

// Validator is implemented by steps that check their configuration beyond
// what decoding checks. The error is reported at the step's position.
type Validator interface {
	Validate() error
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
	// Env is the complete environment for a child process, "NAME=value"
	// entries: the process environment, the workflow's and the step's
	// env:, ITEM and INDEX, and the variables that Script fields refer to.
	Env []string
	// Dir is the directory of the workflow file; relative paths resolve
	// against it.
	Dir string
	// Log receives the step's diagnostic output (a child's stderr). Each
	// line is prefixed with the step id and item index by flowrun. It is
	// safe for concurrent use.
	Log io.Writer
	// Resources are shared by all steps of a run; see Resources.
	Resources *Resources
	// Kill is closed when work that is already cancelled must stop at once,
	// without the grace period a child process normally gets after SIGTERM
	// (the operator interrupted twice). It may be nil.
	Kill <-chan struct{}
}

// Script is a string field whose expressions are passed through the
// environment instead of being pasted into the text. Use it for anything
// that a shell or another interpreter will parse.
type Script string

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
