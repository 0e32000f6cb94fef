package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// ItemHandler runs flowrun items on a worker: its Handle is a Worker's
// Handler. Per run it compiles the manifest once with its own step
// registry; per block it decodes the step, scope and environment once;
// per item it runs exec.ItemRunner.RunItem — the same code, retries,
// timeouts and panics included, as a local block — and returns the
// ItemResult as JSON. A step's failure is in that result; Handle returns
// an error only when it cannot run the item at all (the workflow does not
// compile with this worker's step types, the manifest is unreadable),
// and the cluster names the worker.
//
// Set its fields before the first Handle; it is safe for concurrent use.
// Close releases what items share (connection pools).
type ItemHandler struct {
	// Name names the worker in errors.
	Name string
	// Registry holds the step types the worker runs; nil means
	// steps.Default.
	Registry *steps.Registry
	// Dir is where items run and what the steps' relative paths resolve
	// against. Empty means the workflow's directory as the coordinator
	// has it, when it exists on this machine, else the working directory.
	Dir string
	// Environ is the base environment of child processes; nil means
	// os.Environ(). The run's env: is appended to it.
	Environ []string
	// Log receives the log lines of items that fail (their last lines),
	// or of every item with Verbose; nil discards them.
	Log     io.Writer
	Verbose bool
	// Logf receives notes about runs (the directory items run in).
	Logf func(format string, args ...any)
	// Kill, when closed, stops cancelled items at once.
	Kill <-chan struct{}
	// Slots is the most items the worker runs at once, to size shared
	// connection pools (0: unknown).
	Slots int

	once   sync.Once
	res    *steps.Resources
	mu     sync.Mutex
	runs   lru[*handlerRun]
	blocks lru[*handlerBlock]
}

// handlerRun is a compiled manifest.
type handlerRun struct {
	ready    chan struct{}
	manifest []byte // the bytes it was compiled from (identity)
	m        *Manifest
	wf       *spec.Workflow
	err      error
}

// handlerBlock is a decoded block: what RunItem needs besides the item.
type handlerBlock struct {
	ready chan struct{}
	data  []byte // the bytes it was decoded from (identity)
	step  *spec.Step
	scope *spec.Scope
	ir    *exec.ItemRunner
	err   error
}

// Handle runs one item; see ItemHandler.
func (h *ItemHandler) Handle(ctx context.Context, t Task) ([]byte, error) {
	h.once.Do(func() { h.res = &steps.Resources{Workers: h.Slots} })
	hr := h.run(t)
	if hr.err != nil {
		return nil, h.explain(hr.err, t.BlockData)
	}
	hb := h.block(t, hr)
	if hb.err != nil {
		return nil, hb.err
	}
	var p itemPayload
	dec := json.NewDecoder(bytes.NewReader(t.Payload))
	dec.UseNumber()
	err := dec.Decode(&p)
	it := p.Item
	if err == nil {
		it.Value, err = received(it.Value, p.NonFinite)
	}
	if err != nil || it.Index != t.Index {
		return nil, fmt.Errorf("unreadable item %d: %v", t.Index, err)
	}
	res := hb.ir.RunItem(ctx, hb.step, hb.scope, it)
	out, err := encodeResult(&res)
	if err != nil {
		// An output JSON cannot hold (a channel; NaN and ±Inf travel as
		// encodeResult says): the item fails, saying so, rather than
		// arriving changed.
		res.Status, res.Output = exec.Failed, nil
		res.Error = itemError(hb.step, it.Index, it.Key, fmt.Errorf("worker %q: the output cannot be sent back: %v", h.Name, err))
		res.LogTail = ""
		out, err = json.Marshal(&res)
	}
	return out, err
}

// Close releases the resources items shared.
func (h *ItemHandler) Close() error {
	if h.res == nil {
		return nil
	}
	return h.res.Close()
}

// run returns the run's compiled manifest, compiling it on first use.
// The key holds the manifest's identity: a run dispatched again with a
// new manifest (a resumed run) is compiled again.
func (h *ItemHandler) run(t Task) *handlerRun {
	h.mu.Lock()
	hr, ok := h.runs.get(t.Run)
	if ok && !sameBytes(hr.manifest, t.Manifest) {
		ok = false
	}
	if !ok {
		hr = &handlerRun{ready: make(chan struct{}), manifest: t.Manifest}
		h.runs.put(t.Run, hr)
		h.mu.Unlock()
		hr.m, hr.wf, hr.err = h.compile(t.Manifest)
		close(hr.ready)
		return hr
	}
	h.mu.Unlock()
	<-hr.ready
	return hr
}

func (h *ItemHandler) compile(data []byte) (*Manifest, *spec.Workflow, error) {
	m, err := decodeManifest(data)
	if err != nil {
		return nil, nil, err
	}
	wf, ds := spec.Parse(m.File, m.Source, spec.Options{Registry: h.Registry, Files: m.Callees})
	if ds.HasErrors() || wf == nil {
		return nil, nil, fmt.Errorf("the run's workflow does not compile with this worker's step types:\n%s", ds.Error())
	}
	return m, wf, nil
}

// explain names the step type a worker lacks when that is why the
// workflow did not compile: the usual case, a custom flowrun's
// coordinator with stock workers.
func (h *ItemHandler) explain(err error, data []byte) error {
	var bj blockJob
	if json.Unmarshal(data, &bj) != nil || bj.Type == "" || bj.Type == "uses" {
		return err
	}
	reg := h.Registry
	if reg == nil {
		reg = steps.Default
	}
	if reg.Has(bj.Type) {
		return err
	}
	return fmt.Errorf("step type %q is not in this worker's flowrun: run workers built with the same step types as the coordinator (%w)", bj.Type, err)
}

// block returns the block's decoded data, decoding it on first use.
func (h *ItemHandler) block(t Task, hr *handlerRun) *handlerBlock {
	key := t.Run + "." + t.Block
	h.mu.Lock()
	hb, ok := h.blocks.get(key)
	if ok && !sameBytes(hb.data, t.BlockData) {
		ok = false
	}
	if !ok {
		hb = &handlerBlock{ready: make(chan struct{}), data: t.BlockData}
		h.blocks.put(key, hb)
		h.mu.Unlock()
		hb.err = h.decodeBlock(hb, hr, t.BlockData)
		close(hb.ready)
		return hb
	}
	h.mu.Unlock()
	<-hb.ready
	return hb
}

func (h *ItemHandler) decodeBlock(hb *handlerBlock, hr *handlerRun, data []byte) error {
	var bj blockJob
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&bj); err != nil || bj.Scope == nil {
		return fmt.Errorf("unreadable block data: %v", err)
	}
	// The step, through the workflows called on the way.
	wf := hr.wf
	for _, id := range bj.Path {
		s := wf.Step(id)
		if s == nil || s.Callee == nil {
			return fmt.Errorf("the run's workflow has no uses: step %q", id)
		}
		wf = s.Callee
	}
	hb.step = wf.Step(bj.Step)
	if hb.step == nil || hb.step.Parallel == nil {
		return fmt.Errorf("%s has no parallel step %q", wf.File, bj.Step)
	}
	var err error
	if bj.Scope.Inputs, err = receivedMap(bj.Scope.Inputs, bj.InputsNonFinite); err == nil {
		bj.Scope.Steps, err = receivedMap(bj.Scope.Steps, bj.StepsNonFinite)
	}
	if err != nil {
		return fmt.Errorf("unreadable block data: %v", err)
	}
	hb.scope = bj.Scope
	base := h.Environ
	if base == nil {
		base = os.Environ()
	}
	m := mask.New()
	for _, v := range hr.wf.SecretValues(hr.m.Inputs) {
		m.Add(v)
	}
	for _, v := range wf.SecretValues(bj.Scope.Inputs) {
		m.Add(v)
	}
	hb.ir = &exec.ItemRunner{
		Dir:        h.dir(hr, wf),
		File:       wf.File,
		Environ:    append(append([]string(nil), base...), bj.Env...),
		Log:        h.Log,
		QuietItems: !h.Verbose,
		Resources:  h.res,
		Kill:       h.Kill,
		Mask:       m,
		Workers:    runtime.NumCPU(),
		Start:      bj.Start,
		MaxParsed:  hr.m.MaxParsed,
	}
	return nil
}

// dir is where the items of wf run: Dir, else the workflow's directory
// where it exists on this machine, else the working directory.
func (h *ItemHandler) dir(hr *handlerRun, wf *spec.Workflow) string {
	if h.Dir != "" {
		return h.Dir
	}
	d := hr.m.abs(wf.Dir)
	if st, err := os.Stat(d); err == nil && st.IsDir() {
		return d
	}
	wd, _ := os.Getwd()
	if h.Logf != nil {
		h.Logf("the workflow's directory %s is not on this machine: items of %s run in %s (set --dir)", d, wf.File, wd)
	}
	return wd
}

func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// lru keeps the last few values put, so that a long-running worker holds
// the runs and blocks it is working on, not every one it has seen. A
// value dropped while in use is only recompiled.
type lru[V any] struct {
	keys []string
	vals map[string]V
}

const lruSize = 32

func (l *lru[V]) get(k string) (V, bool) {
	v, ok := l.vals[k]
	return v, ok
}

func (l *lru[V]) put(k string, v V) {
	if l.vals == nil {
		l.vals = map[string]V{}
	}
	if _, ok := l.vals[k]; !ok {
		l.keys = append(l.keys, k)
	}
	l.vals[k] = v
	if len(l.keys) > lruSize {
		delete(l.vals, l.keys[0])
		l.keys = l.keys[1:]
	}
}

var _ Handler = (*ItemHandler)(nil).Handle
