package basic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"time"

	"github.com/flowrun/flowrun/pkg/steps"
)

func init() {
	steps.Register(steps.Info{
		Type:      "sleep",
		Doc:       "wait for a duration",
		New:       func() steps.Step { return new(Sleep) },
		Shorthand: "duration",
	})
	steps.Register(steps.Info{
		Type:      "log",
		Doc:       "write a message to the run's log; the message is the step's output",
		New:       func() steps.Step { return new(Log) },
		Shorthand: "message",
	})
	steps.Register(steps.Info{
		Type: "set",
		Doc:  "name values for later steps; the mapping is the step's output",
		New:  func() steps.Step { return new(Set) },
	})
	steps.Register(steps.Info{
		Type:      "assert",
		Doc:       "fail, without retrying, unless a condition holds",
		New:       func() steps.Step { return new(Assert) },
		Shorthand: "that",
	})
}

// Sleep is the `sleep` step type: it waits for Duration, or until the run
// is cancelled. Its output is nil.
type Sleep struct {
	// Duration is how long to wait ("500ms", "2s").
	Duration steps.Duration `yaml:"duration"`
}

// Validate reports a negative duration.
func (s *Sleep) Validate() error {
	if s.Duration < 0 {
		return fmt.Errorf("duration is %v; want zero or more", s.Duration)
	}
	return nil
}

// Run waits for the duration and returns ctx.Err() if ctx is done first.
func (s *Sleep) Run(ctx context.Context, _ *steps.Input) (any, error) {
	t := time.NewTimer(s.Duration)
	defer t.Stop()
	select {
	case <-t.C:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Log is the `log` step type: it writes Message to the run's log, where
// flowrun prefixes it with the step and item. Its output is the message.
type Log struct {
	// Message is the text to write.
	Message string `yaml:"message"`
}

// Run writes the message and a newline to in.Log. A message that already
// ends in a newline (a YAML block scalar) gets no second one.
func (l *Log) Run(_ context.Context, in *steps.Input) (any, error) {
	if in.Log != nil {
		if _, err := io.WriteString(in.Log, strings.TrimSuffix(l.Message, "\n")+"\n"); err != nil {
			return nil, fmt.Errorf("writing the log: %w", err)
		}
	}
	return l.Message, nil
}

// Set is the `set` step type: a mapping of names to values, which flowrun
// has evaluated already. Its output is the mapping, so later steps read a
// value as steps.<id>.output.<name>.
type Set map[string]any

// Run returns a copy of the mapping: later steps may hold the output while
// other items of this step still read the receiver.
func (s *Set) Run(context.Context, *steps.Input) (any, error) {
	out := make(map[string]any, len(*s))
	maps.Copy(out, *s)
	return out, nil
}

// OutputShape is the mapping itself: its keys are the output's keys.
func (s *Set) OutputShape() any {
	out := make(map[string]any, len(*s))
	maps.Copy(out, *s)
	return out
}

// OutputShape says that the output is the message, a string.
func (l *Log) OutputShape() any { return "" }

// Assert is the `assert` step type: it fails unless That holds. Retrying
// cannot change a condition flowrun has already evaluated, so the failure
// is permanent. Its output is nil.
type Assert struct {
	// That is the condition, usually an expression.
	That bool `yaml:"that"`
	// Message is the error when That is false; empty means
	// "assertion failed".
	Message string `yaml:"message"`
}

// Run returns a permanent error with Message when That is false.
func (a *Assert) Run(context.Context, *steps.Input) (any, error) {
	if a.That {
		return nil, nil
	}
	msg := a.Message
	if msg == "" {
		msg = "assertion failed"
	}
	return nil, steps.Permanent(errors.New(msg))
}

var (
	_ steps.Step      = (*Sleep)(nil)
	_ steps.Validator = (*Sleep)(nil)
	_ steps.Step      = (*Log)(nil)
	_ steps.Step      = (*Set)(nil)
	_ steps.Step      = (*Assert)(nil)
)

var (
	_ steps.OutputShaper = (*Set)(nil)
	_ steps.OutputShaper = (*Log)(nil)
)
