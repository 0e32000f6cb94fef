package durable

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/state"
	"github.com/flowrun/flowrun/pkg/steps"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// work is the step of these tests: it appends its key (or step id) to the
// ledger, fails while its key is in failing, and returns Out.
type work struct {
	Out any `yaml:"out"`
}

var ledger struct {
	sync.Mutex
	ran     []string
	failing map[string]bool
	hook    func(key string) // called before each run, if set
}

func (w *work) Run(_ context.Context, in *steps.Input) (any, error) {
	key := in.Key
	if in.Index < 0 {
		key = in.StepID
	}
	ledger.Lock()
	ledger.ran = append(ledger.ran, key)
	fail, hook := ledger.failing[key], ledger.hook
	ledger.Unlock()
	if hook != nil {
		hook(key)
	}
	if fail {
		return nil, errors.New("failing on purpose")
	}
	return w.Out, nil
}

func resetLedger(failing ...string) {
	ledger.Lock()
	defer ledger.Unlock()
	ledger.ran, ledger.failing, ledger.hook = nil, map[string]bool{}, nil
	for _, k := range failing {
		ledger.failing[k] = true
	}
}

func ran() []string {
	ledger.Lock()
	defer ledger.Unlock()
	return slices.Sorted(slices.Values(ledger.ran))
}

func registry() *steps.Registry {
	r := steps.NewRegistry()
	r.Register(steps.Info{Type: "work", New: func() steps.Step { return new(work) }})
	return r
}

// fixture is a workflow on disk and a state directory.
type fixture struct {
	t    *testing.T
	dir  string
	sd   *state.Dir
	key  mask.Key
	warn []string
	// compact runs with exec.Options.CompactResults, as flowrun apply does.
	compact bool
}

func newFixture(t *testing.T, files map[string]string) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir()}
	f.write(files)
	f.sd = state.New(filepath.Join(f.dir, ".flowrun"))
	if err := f.sd.Check(); err != nil {
		t.Fatal(err)
	}
	k, err := mask.LoadKey(f.sd.Path())
	if err != nil {
		t.Fatal(err)
	}
	f.key = k
	return f
}

func (f *fixture) write(files map[string]string) {
	f.t.Helper()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(f.dir, name), []byte(strings.TrimLeft(src, "\n")), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) load() *spec.Workflow {
	f.t.Helper()
	wf, ds := spec.Load(filepath.Join(f.dir, "main.yaml"), spec.Options{Registry: registry()})
	if ds.HasErrors() {
		f.t.Fatalf("workflow does not load:\n%v", ds)
	}
	return wf
}

func (f *fixture) warnf(s string) { f.warn = append(f.warn, s) }

// start runs main.yaml from scratch with set.
func (f *fixture) start(set map[string]any) (*exec.Report, string) {
	f.t.Helper()
	wf := f.load()
	inputs, err := wf.ResolveInputs(set)
	if err != nil {
		f.t.Fatal(err)
	}
	run, err := NewRun(wf, inputs, f.key)
	if err != nil {
		f.t.Fatal(err)
	}
	j, err := Create(f.sd, run, nil, f.warnf)
	if err != nil {
		f.t.Fatal(err)
	}
	defer j.Close()
	rep := exec.Run(context.Background(), wf, exec.Options{Inputs: inputs, RunID: j.ID(), Recorder: j, Workers: 2, CompactResults: f.compact})
	return rep, j.ID()
}

// resume resumes run id (the latest unfinished when empty) with set.
func (f *fixture) resume(id string, set map[string]any) (*exec.Report, error) {
	f.t.Helper()
	wf := f.load()
	p, err := PrepareResume(f.sd, id, wf, set, f.key)
	if err != nil {
		return nil, err
	}
	j, err := p.Open(nil, f.warnf)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	return exec.Run(context.Background(), wf, exec.Options{Inputs: p.Inputs, RunID: j.ID(), Recorder: j, Restorer: j, Workers: 2, CompactResults: f.compact}), nil
}

func (f *fixture) info(id string) *state.Info {
	f.t.Helper()
	in, err := f.sd.Get(id)
	if err != nil {
		f.t.Fatal(err)
	}
	return in
}

const migrate = `
version: 1
inputs:
  base: {type: integer, default: 1152921504606846976}
steps:
  - id: prep
    work: {out: {base: "${{ inputs.base }}"}}
  - id: fan
    parallel: {items: [a, b, c, d, e, f], key: "${{ item }}", on_error: continue, workers: 2}
    work: {out: "${{ steps.prep.output.base + index }}"}
  - id: after
    work: {out: "${{ sum(steps.fan.outputs) - 6 * steps.prep.output.base }}"}
finally:
  - id: cleanup
    work: {}
`

// TestRecordAndResume: a run whose items b and e fail is resumed twice:
// the first resume still fails e, the second completes. Nothing that
// succeeded runs again, outputs (integers beyond 2^53) come back exact,
// attempts add up, and every record tells the whole run.
func TestRecordAndResume(t *testing.T) {
	f := newFixture(t, map[string]string{"main.yaml": migrate})
	resetLedger("b", "e")
	rep, id := f.start(nil)
	if rep.Status != exec.Failed {
		t.Fatalf("first run %s; want failed", rep.Status)
	}
	if got, want := ran(), []string{"a", "b", "c", "cleanup", "d", "e", "f", "prep"}; !slices.Equal(got, want) {
		t.Errorf("first run ran %v; want %v", got, want)
	}
	in := f.info(id)
	if in.Status != state.StatusFailed || in.Items != (state.Counts{OK: 4, Failed: 2}) {
		t.Errorf("run.json after the first run: %s %+v", in.Status, in.Items)
	}

	// Resume 1: b now works, e still fails.
	resetLedger("e")
	rep, err := f.resume("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ran(), []string{"b", "cleanup", "e"}; !slices.Equal(got, want) {
		t.Errorf("resume 1 ran %v; want %v", got, want)
	}
	if rep.RunID != id || rep.Status != exec.Failed {
		t.Errorf("resume 1: run %s %s; want %s failed", rep.RunID, rep.Status, id)
	}

	// Resume 2, by a prefix of the id: everything completes.
	resetLedger()
	rep, err = f.resume(id[:4], nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ran(), []string{"after", "cleanup", "e"}; !slices.Equal(got, want) {
		t.Errorf("resume 2 ran %v; want %v", got, want)
	}
	if rep.Status != exec.Succeeded {
		t.Fatalf("resume 2: %s (%s)", rep.Status, rep.Error)
	}
	base := 1152921504606846976
	fan := rep.Step("fan")
	for i, r := range fan.Results {
		if r.Index != i || r.Output != base+i || r.Status != exec.Succeeded {
			t.Errorf("fan result %d: %+v; want output %d", i, r, base+i)
		}
	}
	attempts := map[string]int{}
	for _, r := range fan.Results {
		attempts[r.Key] = r.Attempts
	}
	if want := map[string]int{"a": 1, "b": 2, "c": 1, "d": 1, "e": 3, "f": 1}; !cmp.Equal(attempts, want) {
		t.Errorf("attempts %v; want %v", attempts, want)
	}
	if fan.Restored != 5 || fan.Summary.Succeeded != 6 {
		t.Errorf("fan restored %d, summary %+v; want 5 restored, 6 succeeded", fan.Restored, fan.Summary)
	}
	if p := rep.Step("prep"); p.Restored != 1 || p.Attempts != 1 {
		t.Errorf("prep: restored %d, attempts %d", p.Restored, p.Attempts)
	}
	if a := rep.Step("after"); a.Output != 15 {
		t.Errorf("after: %v; want 15 (0+1+...+5): outputs restored exactly", a.Output)
	}
	in = f.info(id)
	if in.Status != state.StatusSucceeded || in.Run.Resumes != 2 || in.Items != (state.Counts{OK: 6}) {
		t.Errorf("run.json at the end: %s, %d resumes, %+v", in.Status, in.Run.Resumes, in.Items)
	}
	rc, err := f.sd.Report(id)
	if err != nil {
		t.Fatal(err)
	}
	var stored exec.Report
	err = json.NewDecoder(rc).Decode(&stored)
	rc.Close()
	if err != nil || stored.Status != exec.Succeeded || stored.RunID != id || stored.Step("fan").Restored != 5 {
		t.Errorf("report.json: %v, %+v", err, stored)
	}

	// A third resume: nothing to do.
	var done *AlreadySucceeded
	if _, err := f.resume(id, nil); !errors.As(err, &done) || done.ID != id {
		t.Errorf("resume of a run that succeeded: %v; want AlreadySucceeded", err)
	}
}

// TestResumeRefusesChanges: a changed workflow, callee or input refuses
// the resume, naming it, and nothing runs or changes.
func TestResumeRefusesChanges(t *testing.T) {
	files := map[string]string{
		"main.yaml": `
version: 1
inputs:
  n: {type: integer, default: 3}
  token: {type: string, secret: true, env: DURABLE_TEST_TOKEN}
steps:
  - id: call
    uses: ./lib.yaml
  - id: fail
    needs: [call]
    work: {}
`,
		"lib.yaml": `
version: 1
steps:
  - id: inner
    work: {}
`,
	}
	f := newFixture(t, files)
	t.Setenv("DURABLE_TEST_TOKEN", "s3cret-token")
	resetLedger("fail")
	rep, id := f.start(map[string]any{"n": "5"})
	if rep.Status != exec.Failed {
		t.Fatalf("first run %s", rep.Status)
	}
	if r := f.info(id).Run; r.Inputs["token"] != nil || r.SecretInputs["token"] != f.key.Sum("s3cret-token") {
		t.Errorf("run.json holds the secret as %v / %q; want only its keyed hash", r.Inputs["token"], r.SecretInputs["token"])
	}
	refused := func(name string, set map[string]any, want string) {
		t.Helper()
		resetLedger()
		_, err := f.resume(id, set)
		var m *Mismatch
		if !errors.As(err, &m) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want a Mismatch saying %q", name, err, want)
		}
		if got := ran(); len(got) > 0 {
			t.Errorf("%s: ran %v", name, got)
		}
	}
	refused("--set differs", map[string]any{"n": "6"}, `input "n" is 6; the run's was 5`)
	t.Setenv("DURABLE_TEST_TOKEN", "other-token")
	refused("secret differs", nil, `secret input "token" differs`)
	t.Setenv("DURABLE_TEST_TOKEN", "s3cret-token")
	f.write(map[string]string{"lib.yaml": files["lib.yaml"] + "# edited\n"})
	refused("callee edited", nil, "lib.yaml (called with uses:) changed since the run")
	f.write(map[string]string{"lib.yaml": files["lib.yaml"], "main.yaml": files["main.yaml"] + "# edited\n"})
	refused("workflow edited", nil, "main.yaml changed since the run")
	f.write(files)
	if in := f.info(id); in.Status != state.StatusFailed || in.Run.Resumes != 0 {
		t.Errorf("after the refusals: %s, %d resumes; want the run untouched", in.Status, in.Run.Resumes)
	}

	// The same --set (as text or typed) and the same secret resume it.
	resetLedger()
	rep, err := f.resume(id, map[string]any{"n": 5})
	if err != nil || rep.Status != exec.Succeeded {
		t.Fatalf("resume with matching inputs: %v, %v", err, rep)
	}
	if got := ran(); !slices.Equal(got, []string{"fail"}) {
		t.Errorf("ran %v; want only the step that failed (the call succeeded)", got)
	}
	if rep.Inputs["n"] != 5 {
		t.Errorf("inputs %v; want the run's n=5", rep.Inputs)
	}
}

// TestResumeLocks: a second resume of a run that is being resumed is
// refused.
func TestResumeLocks(t *testing.T) {
	f := newFixture(t, map[string]string{"main.yaml": migrate})
	resetLedger("a")
	_, id := f.start(nil)
	p, err := PrepareResume(f.sd, id, f.load(), nil, f.key)
	if err != nil {
		t.Fatal(err)
	}
	j, err := p.Open(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.resume(id, nil); !errors.Is(err, state.ErrLocked) {
		t.Errorf("second resume: %v; want ErrLocked", err)
	}
	j.Close()
	if _, err := f.resume("zzz", nil); err == nil || !strings.Contains(err.Error(), `no run "zzz"`) {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := f.resume(id[:len(id)-1]+"x", nil); err == nil || !strings.Contains(err.Error(), "did you mean "+id) {
		t.Errorf("mistyped id: %v; want it to name %s", err, id)
	}
}

// TestResumeWarnings: keys no longer among the items are reported; items
// from a file without key: are said to be matched by position.
func TestResumeWarnings(t *testing.T) {
	f := newFixture(t, map[string]string{
		"main.yaml": `
version: 1
inputs:
  items: {type: list, default: [a, b, c]}
steps:
  - id: fan
    parallel: {items: "${{ inputs.items }}", key: "${{ item }}", max_failures: 1}
    work: {}
  - id: lines
    parallel: {items_from: items.txt, max_failures: 1}
    work: {}
  - id: last
    needs: [fan, lines]
    work: {}
`,
		"items.txt": "x\ny\n",
	})
	resetLedger("c", "1", "last") // line items are keyed by index
	_, id := f.start(nil)
	// The run's inputs are its own: to drop an item, the journal's key
	// must go another way. Here the journal gets a key no item has.
	j, _, err := f.sd.Resume(id)
	if err != nil {
		t.Fatal(err)
	}
	must(t, j.Journal.Item(&state.ItemRecord{Step: "fan", Index: 9, Key: "old", Status: "succeeded", Attempts: 1}))
	must(t, j.Journal.Item(&state.ItemRecord{Step: "fan", Index: 10, Key: "older", Status: "failed", Attempts: 1}))
	must(t, j.Finish(state.StatusFailed, "", nil, nil))
	must(t, j.Close())
	resetLedger()
	rep, err := f.resume(id, nil)
	if err != nil || rep.Status != exec.Succeeded {
		t.Fatalf("resume: %v %+v", err, rep)
	}
	if got := ran(); !slices.Equal(got, []string{"1", "c", "last"}) {
		t.Errorf("ran %v; want c, line 1 and last", got)
	}
	want := []string{
		`step "lines": its items come from items_from items.txt and have no key:, so they are matched to the run's journal by position`,
		`step "fan": 2 key(s) of the run's journal are no longer among its items, so they were neither run nor restored: "old", "older"`,
	}
	for _, w := range want {
		if !slices.ContainsFunc(f.warn, func(s string) bool { return strings.HasPrefix(s, w) }) {
			t.Errorf("warnings %q; want one starting %q", f.warn, w)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestJournalErrorStopsTheRun: once the journal cannot be written, the
// block recording it fails with that error, and so does the run.
func TestJournalErrorStopsTheRun(t *testing.T) {
	f := newFixture(t, map[string]string{"main.yaml": `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..9 }}", workers: 1}
    work: {}
  - id: after
    needs: [fan]
    work: {}
`})
	resetLedger()
	wf := f.load()
	run, err := NewRun(wf, nil, f.key)
	must(t, err)
	j, err := Create(f.sd, run, nil, nil)
	must(t, err)
	ledger.hook = func(key string) {
		if key == "3" {
			j.s.Journal.Close() // as a full disk would: every later record fails
		}
	}
	rep := exec.Run(context.Background(), wf, exec.Options{RunID: j.ID(), Recorder: j})
	j.Close()
	fan := rep.Step("fan")
	if rep.Status != exec.Failed || fan.Status != exec.Failed || !strings.Contains(fan.Error, "recording the result: journal is closed") {
		t.Errorf("run %s, fan %s: %s; want both failed naming the journal", rep.Status, fan.Status, fan.Error)
	}
	if got := ran(); slices.Contains(got, "after") || len(got) > 5 {
		t.Errorf("ran %v after the journal failed", got)
	}
}

// TestResumeFailuresBlockAndUses: a block that keeps only its failures,
// and a block of uses: steps, resume like any other.
func TestResumeFailuresBlockAndUses(t *testing.T) {
	f := newFixture(t, map[string]string{
		"main.yaml": `
version: 1
steps:
  - id: many
    parallel: {items: "${{ 0..99 }}", results: failures, max_failures: 2}
    work: {}
  - id: calls
    parallel: {items: [p, q, r], key: "${{ item }}", max_failures: 3}
    uses: ./lib.yaml
    with: {name: "${{ item }}"}
  - id: last
    needs: [many, calls]
    work: {}
outputs:
  called: ${{ steps.calls.outputs }}
`,
		"lib.yaml": `
version: 1
inputs:
  name: {type: string, required: true}
steps:
  - id: inner
    work: {out: "${{ inputs.name }}!"}
outputs:
  said: ${{ steps.inner.output }}
`,
	})
	// Inside the callee, the step is "inner" with no item: the ledger
	// says "inner" for each call.
	resetLedger("17", "42", "inner", "last")
	rep, id := f.start(nil)
	if rep.Status != exec.Failed {
		t.Fatalf("first run %s", rep.Status)
	}
	resetLedger()
	rep, err := f.resume(id, nil)
	if err != nil || rep.Status != exec.Succeeded {
		t.Fatalf("resume: %v %+v", err, rep)
	}
	if got := ran(); !slices.Equal(got, []string{"17", "42", "inner", "inner", "inner", "last"}) {
		t.Errorf("resume ran %v; want the two failed items, the three failed calls and last", got)
	}
	many := rep.Step("many")
	if s := many.Summary; s.Total != 100 || s.Succeeded != 100 || many.Restored != 98 || len(many.Results) != 0 {
		t.Errorf("many: summary %+v, restored %d, %d results kept", s, many.Restored, len(many.Results))
	}
	want := []any{map[string]any{"said": "p!"}, map[string]any{"said": "q!"}, map[string]any{"said": "r!"}}
	if diff := cmp.Diff(want, rep.Outputs["called"]); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}

	// Resumed once more: nothing runs, the outputs of the calls come
	// from the journal.
	j, _, err := f.sd.Resume(id)
	must(t, err)
	must(t, j.Finish(state.StatusFailed, "", nil, nil)) // pretend it did not end well
	must(t, j.Close())
	resetLedger()
	rep, err = f.resume(id, nil)
	if err != nil || rep.Status != exec.Succeeded || len(ran()) != 0 {
		t.Fatalf("resume of the resume: %v, %v, ran %v", err, rep.Status, ran())
	}
	if diff := cmp.Diff(want, rep.Outputs["called"]); diff != "" {
		t.Errorf("restored outputs (-want +got):\n%s", diff)
	}
}

// TestResumeTruncatedJournal cuts the journal of a run at random offsets,
// as a crash between two writes or a torn last write would leave it, and
// resumes: every item ends succeeded, exactly the items without a whole
// succeeded record run again, and outputs come back whole.
func TestResumeTruncatedJournal(t *testing.T) {
	const src = `
version: 1
steps:
  - id: prep
    work: {out: 7}
  - id: fan
    parallel: {items: "${{ 0..199 }}", results: all, on_error: continue}
    work: {out: "${{ item * steps.prep.output }}"}
`
	// The journal of a first run, to pick offsets in.
	f := newFixture(t, map[string]string{"main.yaml": src})
	resetLedger("7", "150")
	_, id := f.start(nil)
	full, err := os.ReadFile(filepath.Join(f.sd.RunDir(id), state.JournalFile))
	must(t, err)
	offsets := []int{0, 1, len(full) - 1, len(full)}
	for i := 0; i < 12; i++ {
		offsets = append(offsets, (len(full)*(2*i+1)/24+i*37)%len(full))
	}
	for _, off := range offsets {
		t.Run(strconv.Itoa(off), func(t *testing.T) {
			f := newFixture(t, map[string]string{"main.yaml": src})
			resetLedger("7", "150")
			_, id := f.start(nil)
			name := filepath.Join(f.sd.RunDir(id), state.JournalFile)
			must(t, os.Truncate(name, int64(off)))
			jf, err := os.Open(name)
			must(t, err)
			rp, _, err := state.LoadReplay(jf, name)
			jf.Close()
			must(t, err)
			var want []string
			if sr, ok := rp.Step("prep"); !ok || sr.Status != state.StatusSucceeded {
				want = append(want, "prep")
			}
			for i := range 200 {
				k := strconv.Itoa(i)
				if b := rp.Block("fan"); b == nil {
					want = append(want, k)
				} else if it, ok := b.Item(k); !ok || it.Status != state.StatusSucceeded {
					want = append(want, k)
				}
			}
			slices.Sort(want)
			resetLedger()
			rep, err := f.resume(id, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Status != exec.Succeeded {
				t.Fatalf("resume: %s %s", rep.Status, rep.Error)
			}
			if got := ran(); !slices.Equal(got, want) {
				t.Errorf("ran %d items %v; want %d %v", len(got), got, len(want), want)
			}
			for i, r := range rep.Step("fan").Results {
				if r.Output != i*7 || r.Key != strconv.Itoa(i) {
					t.Errorf("item %d: key %q output %v; want %d", i, r.Key, r.Output, i*7)
				}
			}
		})
	}
}

// TestSecretOutputWithheld: an output that holds a secret input's value
// is not written to the journal; a resume runs its step again, and the
// run's record holds the secret only as a keyed hash.
func TestSecretOutputWithheld(t *testing.T) {
	for _, compact := range []bool{false, true} {
		t.Run(fmt.Sprintf("compact=%v", compact), func(t *testing.T) { secretOutputWithheld(t, compact) })
	}
}

// secretOutputWithheld is TestSecretOutputWithheld with or without
// exec.Options.CompactResults (which flowrun apply sets: the block's
// outputs are read by no expression here).
func secretOutputWithheld(t *testing.T, compact bool) {
	f := newFixture(t, map[string]string{"main.yaml": `
version: 1
inputs:
  token: {type: string, secret: true, default: "hunter2-token"}
steps:
  - id: leak
    work: {out: "auth ${{ inputs.token }}"}
  - id: fan
    parallel: {items: [a, b], key: "${{ item }}", results: all}
    work: {out: "${{ item == 'a' ? inputs.token : item }}"}
  - id: last
    needs: [leak, fan]
    work: {}
`})
	resetLedger("last")
	wf := f.load()
	inputs, err := wf.ResolveInputs(nil)
	must(t, err)
	run, err := NewRun(wf, inputs, f.key)
	must(t, err)
	j, err := Create(f.sd, run, mask.New("hunter2-token"), nil)
	must(t, err)
	rep := exec.Run(context.Background(), wf, exec.Options{Inputs: inputs, RunID: j.ID(), Recorder: j, CompactResults: compact})
	must(t, j.Close())
	if rep.Status != exec.Failed {
		t.Fatalf("first run %s", rep.Status)
	}
	dir := f.sd.RunDir(j.ID())
	for _, name := range []string{state.JournalFile, state.RunFile, state.ReportFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		must(t, err)
		if strings.Contains(string(b), "hunter2") {
			t.Errorf("%s holds the secret:\n%s", name, b)
		}
	}
	resetLedger()
	p, err := PrepareResume(f.sd, j.ID(), wf, nil, f.key)
	must(t, err)
	j2, err := p.Open(mask.New("hunter2-token"), nil)
	must(t, err)
	rep = exec.Run(context.Background(), wf, exec.Options{Inputs: p.Inputs, RunID: j2.ID(), Recorder: j2, Restorer: j2, CompactResults: compact})
	must(t, j2.Close())
	if got := ran(); !slices.Equal(got, []string{"a", "last", "leak"}) {
		t.Errorf("resume ran %v; want leak and a (their outputs were withheld) and last", got)
	}
	fanOut := rep.Step("fan").Results[0].Output
	if raw, ok := fanOut.(json.RawMessage); ok && compact {
		fanOut = string(raw)
		if fanOut != `"hunter2-token"` {
			t.Errorf("compacted output %s", raw)
		}
		fanOut = "hunter2-token"
	}
	if rep.Status != exec.Succeeded || rep.Step("leak").Output != "auth hunter2-token" || fanOut != "hunter2-token" {
		t.Errorf("resume: %s; outputs %v, %v; want the real values", rep.Status, rep.Step("leak").Output, rep.Step("fan").Results[0].Output)
	}
}

// TestResumeResultsFile: a resumed block writes its results_file anew with
// every item, restored ones with their recorded outputs.
func TestResumeResultsFile(t *testing.T) {
	f := newFixture(t, map[string]string{"main.yaml": `
version: 1
steps:
  - id: fan
    parallel: {items: [a, b, c], key: "${{ item }}", results: failures, results_file: out.jsonl, on_error: continue}
    work: {out: "${{ item + '!' }}"}
`})
	resetLedger("b")
	_, id := f.start(nil)
	resetLedger()
	rep, err := f.resume(id, nil)
	if err != nil || rep.Status != exec.Succeeded {
		t.Fatalf("resume: %v %+v", err, rep)
	}
	b, err := os.ReadFile(filepath.Join(f.dir, "out.jsonl"))
	must(t, err)
	got := map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r exec.ItemResult
		must(t, json.Unmarshal([]byte(line), &r))
		got[r.Key] = r.Output
	}
	if want := map[string]any{"a": "a!", "b": "b!", "c": "c!"}; !cmp.Equal(got, want) {
		t.Errorf("results file %v; want %v\n%s", got, want, b)
	}
}

// TestResumeRefusesDamagedJournal: a record damaged before the journal's
// end refuses the resume, naming its line, and nothing runs.
func TestResumeRefusesDamagedJournal(t *testing.T) {
	f := newFixture(t, map[string]string{"main.yaml": migrate})
	resetLedger("a")
	_, id := f.start(nil)
	name := filepath.Join(f.sd.RunDir(id), state.JournalFile)
	b, err := os.ReadFile(name)
	must(t, err)
	lines := strings.SplitAfter(string(b), "\n")
	lines[2] = "{garbage}\n"
	must(t, os.WriteFile(name, []byte(strings.Join(lines, "")), 0o600))
	resetLedger()
	_, err = f.resume(id, nil)
	var je *state.JournalError
	if !errors.As(err, &je) || je.Line != 3 || !strings.Contains(err.Error(), "journal:3: ") {
		t.Errorf("resume of a damaged journal: %v; want a JournalError at line 3", err)
	}
	if got := ran(); len(got) > 0 {
		t.Errorf("ran %v", got)
	}
}

// TestResumeNonFiniteInput: a number input set to NaN is kept in run.json
// as the string JSON allows, and a resume reads it back as the number.
func TestResumeNonFiniteInput(t *testing.T) {
	f := newFixture(t, map[string]string{"main.yaml": `
version: 1
inputs:
  x: {type: number, default: 1}
steps:
  - id: a
    work: {out: "${{ inputs.x }}"}
`})
	resetLedger("a")
	_, id := f.start(map[string]any{"x": ".nan"})
	for _, set := range []map[string]any{nil, {"x": ".nan"}} {
		resetLedger("a") // fails again, so that the run stays resumable
		rep, err := f.resume(id, set)
		if err != nil {
			t.Fatalf("resume with %v: %v", set, err)
		}
		if x, ok := rep.Inputs["x"].(float64); !ok || !math.IsNaN(x) {
			t.Errorf("resume with %v: x = %#v; want NaN", set, rep.Inputs["x"])
		}
	}
}

// TestCompactOutputsJournaledAndResumed: outputs kept as their JSON
// (exec.Options.CompactResults) are journaled and reported as the values
// they encode, and a resume restores them exactly.
func TestCompactOutputsJournaledAndResumed(t *testing.T) {
	f := newFixture(t, map[string]string{"main.yaml": `
version: 1
steps:
  - id: fan
    parallel: {items: [a, b, c], key: "${{ item }}", on_error: continue}
    work: {out: {k: "${{ item }}", big: 9007199254740993, f: 2.5, list: [1, {z: true, a: null}]}}
`})
	want := func(k string) any {
		return map[string]any{"k": k, "big": 9007199254740993, "f": 2.5, "list": []any{1, map[string]any{"z": true, "a": nil}}}
	}
	decoded := func(t *testing.T, v any) any {
		t.Helper()
		if raw, ok := v.(json.RawMessage); ok {
			out, err := steps.DecodeJSON(bytes.NewReader(raw))
			must(t, err)
			return out
		}
		return v
	}
	resetLedger("c")
	wf := f.load()
	run, err := NewRun(wf, nil, f.key)
	must(t, err)
	j, err := Create(f.sd, run, nil, nil)
	must(t, err)
	rep := exec.Run(context.Background(), wf, exec.Options{RunID: j.ID(), Recorder: j, CompactResults: true})
	must(t, j.Close())
	if rep.Status != exec.Failed {
		t.Fatalf("first run %s; want failed (c fails)", rep.Status)
	}
	for _, r := range rep.Step("fan").Results[:2] {
		if _, ok := r.Output.(json.RawMessage); !ok {
			t.Errorf("%s: output %T; want it kept as JSON", r.Key, r.Output)
		}
	}
	// report.json holds the values.
	rc, err := f.sd.Report(j.ID())
	must(t, err)
	var stored struct {
		Steps []struct {
			Results []struct {
				Key    string `json:"key"`
				Output any    `json:"output"`
			} `json:"results"`
		} `json:"steps"`
	}
	dec := json.NewDecoder(rc)
	dec.UseNumber()
	must(t, dec.Decode(&stored))
	rc.Close()
	for _, r := range stored.Steps[0].Results[:2] {
		if diff := cmp.Diff(want(r.Key), spec.Normalize(r.Output)); diff != "" {
			t.Errorf("report.json, %s (-want +got):\n%s", r.Key, diff)
		}
	}

	resetLedger()
	p, err := PrepareResume(f.sd, j.ID(), wf, nil, f.key)
	must(t, err)
	j2, err := p.Open(nil, nil)
	must(t, err)
	rep = exec.Run(context.Background(), wf, exec.Options{RunID: j2.ID(), Recorder: j2, Restorer: j2, CompactResults: true})
	must(t, j2.Close())
	if got := ran(); !slices.Equal(got, []string{"c"}) {
		t.Errorf("resume ran %v; want c only", got)
	}
	if rep.Status != exec.Succeeded {
		t.Fatalf("resume: %s %s", rep.Status, rep.Error)
	}
	for _, r := range rep.Step("fan").Results {
		if diff := cmp.Diff(want(r.Key), decoded(t, r.Output)); diff != "" {
			t.Errorf("after the resume, %s (-want +got):\n%s", r.Key, diff)
		}
	}
}

// TestSecretFormsWithheld: the journal withholds an output that holds a
// secret in a form only its decoded strings show — a line of a multi-line
// secret holding quotes, which JSON escapes — or as a URL's credential,
// which redacting the URL would hide from a comparison of the two.
func TestSecretFormsWithheld(t *testing.T) {
	const lines = "user=\"alice-x\"\npass=hunter22-x"
	const token = "S3cr3t-Tok9-value"
	f := newFixture(t, map[string]string{"main.yaml": `
version: 1
inputs:
  creds: {type: string, secret: true}
  token: {type: string, secret: true}
steps:
  - id: fan
    parallel: {items: [line, url, plain], key: "${{ item }}", results: all}
    work:
      out: "${{ item == 'line' ? split(inputs.creds, '\\n')[0] : item == 'url' ? 'https://api.example.test/x?token=' + inputs.token : item }}"
`})
	resetLedger()
	wf := f.load()
	inputs, err := wf.ResolveInputs(map[string]any{"creds": lines, "token": token})
	must(t, err)
	run, err := NewRun(wf, inputs, f.key)
	must(t, err)
	j, err := Create(f.sd, run, mask.New(lines, token), nil)
	must(t, err)
	rep := exec.Run(context.Background(), wf, exec.Options{Inputs: inputs, RunID: j.ID(), Recorder: j, CompactResults: true})
	must(t, j.Close())
	if rep.Status != exec.Succeeded {
		t.Fatalf("run %s: %s", rep.Status, rep.Error)
	}
	b, err := os.ReadFile(filepath.Join(f.sd.RunDir(j.ID()), state.JournalFile))
	must(t, err)
	for _, leak := range []string{`alice-x`, token} {
		if strings.Contains(string(b), leak) {
			t.Errorf("the journal holds %q:\n%s", leak, b)
		}
	}
	if !strings.Contains(string(b), `"output":"plain"`) {
		t.Errorf("the journal lost an output with no secret:\n%s", b)
	}
}

// TestSecretKeyNotJournaled: an item whose key holds a secret the run
// started with is journaled under the key's keyed hash, not the key, and
// a resume finds it: it restores the items that succeeded and runs only
// the one that failed. A secret the masker learns only during the run (a
// called workflow declares it) does not change how keys are journaled,
// so a resume, whose masker may never learn it, still finds them.
func TestSecretKeyNotJournaled(t *testing.T) {
	for _, late := range []bool{false, true} {
		t.Run(fmt.Sprintf("learned during the run=%v", late), func(t *testing.T) { secretKeyNotJournaled(t, late) })
	}
}

func secretKeyNotJournaled(t *testing.T, late bool) {
	const token = "Sup3rSecretTok-x"
	f := newFixture(t, map[string]string{"main.yaml": `
version: 1
inputs:
  token: {type: string, secret: true}
steps:
  - id: fan
    parallel: {items: [a, b, c], key: "${{ item }}-${{ inputs.token }}", results: all, on_error: continue}
    work: {out: "${{ item }}"}
`})
	set := map[string]any{"token": token}
	// masker is the run's: it knows the secret from the start, or only
	// once the journal is open, as a called workflow's secret is known.
	masker := func(open func(*mask.Masker) *Journal) *Journal {
		m := mask.New()
		if !late {
			m.Add(token)
		}
		j := open(m)
		m.Add(token)
		return j
	}
	resetLedger("b-" + token)
	wf := f.load()
	inputs, err := wf.ResolveInputs(set)
	must(t, err)
	run, err := NewRun(wf, inputs, f.key)
	must(t, err)
	j := masker(func(m *mask.Masker) *Journal {
		j, err := Create(f.sd, run, m, nil)
		must(t, err)
		return j
	})
	rep := exec.Run(context.Background(), wf, exec.Options{Inputs: inputs, RunID: j.ID(), Recorder: j, CompactResults: true})
	must(t, j.Close())
	if rep.Status != exec.Failed {
		t.Fatalf("first run %s; want failed (item b)", rep.Status)
	}
	b, err := os.ReadFile(filepath.Join(f.sd.RunDir(j.ID()), state.JournalFile))
	must(t, err)
	if !late && (strings.Contains(string(b), token) || !strings.Contains(string(b), `"key":"`+mask.SumPrefix)) {
		t.Errorf("the journal holds the secret, or no keyed hash of a key:\n%s", b)
	}
	resetLedger()
	p, err := PrepareResume(f.sd, j.ID(), wf, set, f.key)
	must(t, err)
	j2 := masker(func(m *mask.Masker) *Journal {
		j, err := p.Open(m, nil)
		must(t, err)
		return j
	})
	rep = exec.Run(context.Background(), wf, exec.Options{Inputs: p.Inputs, RunID: j2.ID(), Recorder: j2, Restorer: j2, CompactResults: true})
	must(t, j2.Close())
	if got := ran(); !slices.Equal(got, []string{"b-" + token}) {
		t.Errorf("resume ran %v; want only b", got)
	}
	if rep.Status != exec.Succeeded || rep.Step("fan").Restored != 2 {
		t.Errorf("resume: %s, %d restored; want succeeded with a and c restored", rep.Status, rep.Step("fan").Restored)
	}
	if got := rep.Step("fan").Results[1].Attempts; got != 2 {
		t.Errorf("item b: %d attempts; want 2, its first run's found under its hashed key", got)
	}
	b, err = os.ReadFile(filepath.Join(f.sd.RunDir(j.ID()), state.JournalFile))
	must(t, err)
	if !late && strings.Contains(string(b), token) {
		t.Errorf("the resume journaled the secret:\n%s", b)
	}
}

// TestSecretKeysHashedApart: keys that differ only in bytes that are not
// UTF-8 hash apart (a JSON encoding of them would not: both U+FFFD).
func TestSecretKeysHashedApart(t *testing.T) {
	const token = "Sup3rSecretTok-x"
	key := mask.Key(bytes.Repeat([]byte{7}, 32))
	j := &Journal{key: key, keyMask: mask.New(token)}
	a, b := j.journalKey("caf\xe9-"+token), j.journalKey("caf\xe8-"+token)
	if a == b || !strings.HasPrefix(a, mask.SumPrefix) || strings.Contains(a, token) {
		t.Errorf("journalKey: %q and %q; want two keyed hashes", a, b)
	}
	if got := j.journalKey("plain"); got != "plain" {
		t.Errorf("journalKey(plain) = %q", got)
	}
}
