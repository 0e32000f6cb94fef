package exec

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// Item is one item of a parallel block. Its key is evaluated by the block's
// source before the item is dispatched, so that it is known wherever and
// whenever the item runs (a resumed run matches results by key; a cluster
// sends it along). A step that is not a parallel block runs one Item with
// Index -1 and no key.
type Item struct {
	Index int    `json:"index"`
	Key   string `json:"key"`
	Value any    `json:"value"`
	// Due is when the item was due to start by its block's rate: (see
	// gate), zero in a block without one. The item's LatencyMS counts
	// from it, or from the item's start if that came first.
	Due time.Time `json:"due,omitzero"`
	// Attempts counts the tries earlier attempts at the run made at this
	// item (a resumed run; see Restorer): its result's attempts count on
	// from them.
	Attempts int `json:"attempts,omitempty"`
}

// UnmarshalJSON decodes an item sent as JSON with its value's numbers as
// expressions see them (spec.Normalize): whole numbers as int.
func (it *Item) UnmarshalJSON(b []byte) error {
	type plain Item
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	p.Value = spec.Normalize(p.Value)
	*it = Item(p)
	return nil
}

// ItemRunner runs items of compiled steps: an item's retries, timeouts and
// output format, with a panic in the step turned into the item's error. It
// holds what every item of a run shares and no scheduling state, so a
// worker on another machine builds one and calls it for the items it
// receives. Set its fields before the first Bind and do not change them
// after; it is safe for concurrent use.
type ItemRunner struct {
	// Dir is the workflow file's directory (steps.Input.Dir); File is the
	// workflow file, named in the errors of uses: steps.
	Dir, File string
	// Environ is the base environment of child processes: the process's
	// and the workflow's env:.
	Environ []string
	// Log receives the steps' diagnostic lines, prefixed with the step
	// and item; nil discards them. QuietItems keeps the lines of parallel
	// blocks' items off Log (a failed item's last lines are still in its
	// LogTail).
	Log        io.Writer
	QuietItems bool
	// Resources are shared by every item of the run (connection pools).
	Resources *steps.Resources
	// Kill, when closed, stops cancelled work at once.
	Kill <-chan struct{}
	// Mask masks secrets in the lines items write to Log and in their log
	// tails; nil masks nothing.
	Mask *mask.Masker
	// Workers is the default worker count of workflows called by uses:.
	Workers int
	// Start is when the run started: ItemResult.OffsetMS counts from it.
	Start time.Time
	// MaxParsed bounds the memory of one parsed output (output: json or
	// lines) and of one jsonl item; 0 means DefaultMaxParsed.
	MaxParsed int64
	// CompactOutputs tells the items of a parallel block whose outputs no
	// expression reads that they are only written (steps.Input.
	// OutputUnread; see Options.CompactResults).
	CompactOutputs bool

	once  sync.Once
	lines *lineWriter
	// dispatcher and origin are the run's, for the workflows its single
	// uses: steps call (call.Run).
	dispatcher Dispatcher
	origin     *origin
	// wf is the workflow whose steps run; claims and chain are its run's
	// (files.go), handed on to the workflows its uses: steps call.
	wf     *spec.Workflow
	claims *fileClaims
	chain  []spec.CallSite
}

func (ir *ItemRunner) log() *lineWriter {
	ir.once.Do(func() {
		if ir.lines == nil {
			ir.lines = newLineWriter(ir.Log)
		}
	})
	return ir.lines
}

// RunItem runs one item of step s under scope sc: Bind, Run, then the
// step's Cleanup. A block runs many items of one binding instead.
func (ir *ItemRunner) RunItem(ctx context.Context, s *spec.Step, sc *spec.Scope, it Item) ItemResult {
	var res ItemResult
	b, err := ir.Bind(s, sc)
	if err != nil {
		res.Index, res.Key, res.Status = it.Index, it.Key, Failed
		res.Error = b.itemError(&res, err)
		return res
	}
	b.Run(ctx, it, &res)
	if err := b.Cleanup(); err != nil && res.Status == Succeeded {
		res.Status, res.Error = Failed, b.itemError(&res, err)
	}
	return res
}

// BoundStep is a step ready to run items under one scope: whatever does
// not depend on the item is evaluated and decoded once, in Bind, not once
// per item.
type BoundStep struct {
	ir   *ItemRunner
	step *spec.Step
	// sc is the step's scope; scope, its variables.
	sc    *spec.Scope
	scope map[string]any
	// shared is the decoded step when its configuration does not depend on
	// the item; sharedVars are the script variables it refers to.
	shared     steps.Step
	sharedVars []string
	// environ is the child environment without the item's variables; nil
	// when the step's env: depends on the item. action is then the scope
	// the step's action reads: scope with the step's env: over env
	// (stepenv.go).
	environ []string
	action  map[string]any
	// perItemScope is true when the configuration, with: or env: reads
	// the item, so that running an item needs its scope (a key builds its
	// own).
	perItemScope bool
	// unread and discarded are steps.Input.OutputUnread and
	// OutputDiscarded for the step's items.
	unread, discarded bool
}

// Bind prepares step s to run items under sc.
func (ir *ItemRunner) Bind(s *spec.Step, sc *spec.Scope) (*BoundStep, error) {
	scope := sc.Vars()
	b := &BoundStep{ir: ir, step: s, sc: sc, scope: scope}
	b.unread = ir.CompactOutputs && s.Parallel != nil && !s.Parallel.OutputsRead
	b.discarded = b.unread && s.Parallel.Results == spec.ResultsFailures && s.Parallel.ResultsFile == nil
	envPerItem := false
	for _, e := range s.Env {
		for _, x := range e.Value.Exprs() {
			envPerItem = envPerItem || x.UsesItem
		}
	}
	// A uses step evaluates its with: per item itself; see call.
	configPerItem := s.Type != "uses" && s.Config.UsesItem
	withPerItem := s.Type == "uses" && s.With != nil && s.With.UsesItem
	b.perItemScope = envPerItem || configPerItem || withPerItem
	if !envPerItem {
		env, own, err := stepEnviron(ir.Environ, s, scope)
		if err != nil {
			return b, err
		}
		b.environ, b.action = env, withStepEnv(scope, own)
	}
	if s.Type == "uses" {
		b.shared = &call{ir: ir, step: s, bound: b}
	} else if !configPerItem && !envPerItem {
		st, vars, err := decode(s, b.action)
		if err != nil {
			return b, err
		}
		b.shared, b.sharedVars = st, vars
	}
	return b, nil
}

// Cleanup calls the step's Cleanup (steps.Cleaner) once its items are done.
func (b *BoundStep) Cleanup() error {
	if c, ok := b.shared.(steps.Cleaner); ok {
		return c.Cleanup()
	}
	return nil
}

// Key evaluates the key of the item at index with value: its `key:`, the
// combination of a matrix (spec.Matrix.Key), or the index.
func (b *BoundStep) Key(index int, value any) (string, error) {
	return b.keyIn(nil, nil, index, value)
}

// keyIn is Key evaluated on ev (nil: a machine of its own) in vars, the
// item's scope, when it is not nil.
func (b *BoundStep) keyIn(ev *spec.Evaluator, vars map[string]any, index int, value any) (string, error) {
	blk := b.step.Parallel
	switch {
	case blk == nil || index < 0:
		return "", nil
	case blk.Key != nil:
		if vars == nil {
			vars = spec.ItemVars(b.scope, blk.As, index, value)
		}
		k, err := blk.Key.EvalWith(ev, vars)
		if err != nil {
			return strconv.Itoa(index), err
		}
		return spec.Text(k), nil
	case blk.Matrix != nil:
		return blk.Matrix.Key(value), nil
	}
	return strconv.Itoa(index), nil
}

// decode resolves the step's configuration against scope and decodes it.
func decode(s *spec.Step, scope map[string]any) (steps.Step, []string, error) {
	st, vars, err := s.Decode(scope, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %s: %v", s.TypePos, s.Type, err)
	}
	return st, vars, nil
}

// itemScope returns the scope of one item: the step's plus the item
// variable and index.
func (b *BoundStep) itemScope(index int, item any) map[string]any {
	if !b.perItemScope {
		return b.scope
	}
	return spec.ItemVars(b.scope, b.step.Parallel.As, index, item)
}

// instance returns the step value, the child environment and the item's
// script variables for one item.
func (b *BoundStep) instance(it Item) (steps.Step, []string, []string, error) {
	st, env, vars := b.shared, b.environ, b.sharedVars
	if st != nil && env != nil {
		return st, env, vars, nil
	}
	sc, env, err := b.actionScope(it.Index, it.Value)
	if err != nil {
		return nil, nil, nil, err
	}
	if st == nil {
		if st, vars, err = decode(b.step, sc); err != nil {
			return nil, nil, nil, err
		}
	}
	return st, env, vars, nil
}
