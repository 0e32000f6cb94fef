package exec

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// memRestorer answers from maps, as a journal would, and counts what it
// was asked.
type memRestorer struct {
	steps map[string]Restored
	items map[string]map[string]Restored // step -> key -> result
	err   error                          // returned for item key "bad"

	mu    sync.Mutex
	asked []string
}

func (m *memRestorer) Step(s *spec.Step) (Restored, error) {
	m.mu.Lock()
	m.asked = append(m.asked, s.ID)
	m.mu.Unlock()
	return m.steps[s.ID], nil
}

func (m *memRestorer) Item(s *spec.Step, key string) (Restored, error) {
	if key == "bad" && m.err != nil {
		return Restored{}, m.err
	}
	return m.items[s.ID][key], nil
}

// restoringRecorder records what the Recorder sees of restored results.
type restoringRecorder struct {
	mu       sync.Mutex
	restored []string // step/key of restored items
	ran      []string
	steps    map[string]int // step -> Restored
	starts   map[string]int
}

func (r *restoringRecorder) ItemDone(s *spec.Step, res *ItemResult) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if res.Restored {
		r.restored = append(r.restored, s.ID+"/"+res.Key)
	} else {
		r.ran = append(r.ran, s.ID+"/"+res.Key)
	}
	return nil
}

func (r *restoringRecorder) StepDone(s *spec.Step, rep *StepReport) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps[s.ID] = rep.Restored
	return nil
}

func (r *restoringRecorder) BlockStarted(s *spec.Step, n int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.starts[s.ID] = n
	return nil
}

func (r *restoringRecorder) RunDone(*Report) error { return nil }

// TestRestoreStepsAndItems: a resumed run does not run the single steps
// and items that succeeded before, hands their outputs on, runs the rest
// with their attempts counted on, and reports the whole block index by
// index as one run would.
func TestRestoreStepsAndItems(t *testing.T) {
	src := `
version: 1
steps:
  - id: prep
    probe: {out: {base: 100}, record: prep}
  - id: fan
    parallel: {items: [a, b, c, d], key: "${{ item }}", workers: 2}
    probe: {out: "${{ steps.prep.output.base + index }}", record: "${{ item }}"}
  - id: sum
    probe: {out: "${{ sum(steps.fan.outputs) }}", record: sum}
finally:
  - id: last
    probe: {record: last}
`
	rst := &memRestorer{
		steps: map[string]Restored{
			"prep": {Succeeded: true, Output: map[string]any{"base": 100}, Attempts: 2},
			"sum":  {Attempts: 1}, // failed before: runs again
			"last": {Succeeded: true, Attempts: 1},
		},
		items: map[string]map[string]Restored{"fan": {
			"a": {Succeeded: true, Output: 100, Attempts: 1, DurationMS: 5},
			"b": {Attempts: 3}, // failed three times
			"d": {Succeeded: true, Output: 103, Attempts: 2, DurationMS: 7},
			"x": {Succeeded: true, Output: 1}, // no longer among the items
		}},
	}
	rec := &restoringRecorder{steps: map[string]int{}, starts: map[string]int{}}
	rep := runYAML(t, src, Options{Restorer: rst, Recorder: rec, RunID: "0123456789ab"})
	if rep.Status != Succeeded || rep.RunID != "0123456789ab" {
		t.Fatalf("run %s (%s), id %s; want succeeded with the id given", rep.Status, rep.Error, rep.RunID)
	}
	ran := slices.Sorted(slices.Values(probes.started))
	if want := []string{"b", "c", "last", "sum"}; !slices.Equal(ran, want) {
		t.Errorf("ran %v; want %v (prep, a and d succeeded before; finally steps always run)", ran, want)
	}
	prep := rep.Step("prep")
	if prep.Status != Succeeded || prep.Restored != 1 || prep.Attempts != 2 || !cmp.Equal(prep.Output, map[string]any{"base": 100}) {
		t.Errorf("prep: %+v; want restored, succeeded, 2 attempts, its output", prep)
	}
	fan := rep.Step("fan")
	type row struct {
		Index    int
		Key      string
		Output   any
		Attempts int
		Restored bool
	}
	var got []row
	for _, r := range fan.Results {
		got = append(got, row{r.Index, r.Key, r.Output, r.Attempts, r.Restored})
	}
	want := []row{{0, "a", 100, 1, true}, {1, "b", 101, 4, false}, {2, "c", 102, 1, false}, {3, "d", 103, 2, true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fan results (-want +got):\n%s", diff)
	}
	if sm := fan.Summary; sm.ItemsPerSec <= 0 || sm.ItemsPerSec > 2/(sm.DurationMS/1000)*1.01 {
		t.Errorf("items per second %v over %v ms; want the 2 items that ran, not the 4", sm.ItemsPerSec, sm.DurationMS)
	}
	if fan.Restored != 2 || fan.Summary.Total != 4 || fan.Summary.Succeeded != 4 || fan.Summary.MaxMS < 7 {
		t.Errorf("fan: restored %d, summary %+v; want 2 restored of 4 succeeded, durations included", fan.Restored, fan.Summary)
	}
	if s := rep.Step("sum"); s.Output != 406 || s.Attempts != 2 || s.Restored != 0 {
		t.Errorf("sum: output %v, attempts %d, restored %d; want 406 from the whole block, 2 attempts, run", s.Output, s.Attempts, s.Restored)
	}
	if l := rep.Step("last"); l.Restored != 0 || l.Attempts != 2 {
		t.Errorf("finally step: restored %d, attempts %d; want it run, 1+1 attempts", l.Restored, l.Attempts)
	}
	slices.Sort(rec.restored)
	slices.Sort(rec.ran)
	if !slices.Equal(rec.restored, []string{"fan/a", "fan/d"}) || !slices.Equal(rec.ran, []string{"fan/b", "fan/c"}) {
		t.Errorf("recorder saw restored %v, ran %v", rec.restored, rec.ran)
	}
	if rec.steps["prep"] != 1 || rec.steps["fan"] != 2 || rec.starts["fan"] != 4 {
		t.Errorf("recorder saw steps %v, block starts %v", rec.steps, rec.starts)
	}
}

// TestRestoreFailuresOnlyBlock: a block that keeps only its failures
// counts restored items in its summary without keeping them.
func TestRestoreFailuresOnlyBlock(t *testing.T) {
	items := map[string]Restored{}
	for _, k := range []string{"0", "2", "4"} {
		items[k] = Restored{Succeeded: true, Attempts: 1}
	}
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..5 }}", results: failures, on_error: continue}
    probe: {fail: "${{ item == 3 }}", record: "${{ string(item) }}"}
`, Options{Restorer: &memRestorer{items: map[string]map[string]Restored{"fan": items}}})
	fan := rep.Step("fan")
	ran := slices.Sorted(slices.Values(probes.started))
	if !slices.Equal(ran, []string{"1", "3", "5"}) {
		t.Errorf("ran %v; want 1, 3, 5", ran)
	}
	if s := fan.Summary; s.Total != 6 || s.Succeeded != 5 || s.Failed != 1 || fan.Restored != 3 {
		t.Errorf("summary %+v, restored %d; want 6 items, 5 succeeded (3 restored), 1 failed", s, fan.Restored)
	}
	if len(fan.Results) != 1 || fan.Results[0].Index != 3 {
		t.Errorf("results %+v; want only item 3's failure", fan.Results)
	}
}

// TestRestoreError: a Restorer that cannot answer fails the block; no
// item is guessed.
func TestRestoreError(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: [ok, bad, later], key: "${{ item }}", workers: 1}
    probe: {record: "${{ item }}"}
`, Options{Restorer: &memRestorer{err: errors.New("journal says no")}})
	fan := rep.Step("fan")
	if fan.Status != Failed || !strings.Contains(fan.Error, `item 1 (key "bad"): resuming: journal says no`) {
		t.Errorf("fan %s: %s; want failed naming the item and the error", fan.Status, fan.Error)
	}
	if slices.Contains(probes.started, "later") || slices.Contains(probes.started, "bad") {
		t.Errorf("ran %v after the restorer failed", probes.started)
	}
}

// TestRestoreUsesInBlock: items of a block of uses: steps that succeeded
// before do not call their workflow again.
func TestRestoreUsesInBlock(t *testing.T) {
	wf := loadFiles(t, map[string]string{"square.yaml": square, "main.yaml": `
version: 1
steps:
  - id: fan
    parallel: {items: [1, 2, 3], key: "n${{ item }}"}
    uses: ./square.yaml
    with: {n: "${{ item }}"}
outputs:
  squares: ${{ steps.fan.outputs }}
`})
	resetProbes()
	rst := &memRestorer{items: map[string]map[string]Restored{"fan": {"n2": {Succeeded: true, Output: map[string]any{"square": 4}, Attempts: 1}}}}
	rep := Run(context.Background(), wf, Options{Restorer: rst})
	if rep.Status != Succeeded {
		t.Fatalf("run %s: %s", rep.Status, rep.Error)
	}
	if got := slices.Sorted(slices.Values(probes.started)); !slices.Equal(got, []string{"cleanup 1", "cleanup 3"}) {
		t.Errorf("callee finally steps ran for %v; want items 1 and 3 only", got)
	}
	want := []any{map[string]any{"square": 1}, map[string]any{"square": 4}, map[string]any{"square": 9}}
	if diff := cmp.Diff(want, rep.Outputs["squares"]); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
}

// TestRunIDAndItemKeyInEnvironment: children see the run's id and their
// item's key, including the steps of a workflow called for an item.
func TestRunIDAndItemKeyInEnvironment(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"main.yaml": `
version: 1
steps:
  - id: single
    run: echo "$FLOWRUN_RUN_ID ${FLOWRUN_ITEM_KEY-none}" > single.txt
  - id: fan
    parallel: {items: [x, y], key: "k-${{ item }}"}
    run: echo "$FLOWRUN_RUN_ID $FLOWRUN_ITEM_KEY" > fan-$INDEX.txt
  - id: call
    parallel: {items: [z], key: "c-${{ item }}"}
    uses: ./callee.yaml
`,
		"callee.yaml": `
version: 1
steps:
  - id: inner
    run: echo "$FLOWRUN_RUN_ID $FLOWRUN_ITEM_KEY" > callee.txt
`,
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.TrimLeft(src, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wf, ds := spec.Load(filepath.Join(dir, "main.yaml"), spec.Options{Registry: steps.Default})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	rep := Run(context.Background(), wf, Options{RunID: "feedc0ffee00"})
	if rep.Status != Succeeded {
		t.Fatalf("run %s: %s", rep.Status, rep.Error)
	}
	for file, want := range map[string]string{
		"single.txt": "feedc0ffee00 none",
		"fan-0.txt":  "feedc0ffee00 k-x",
		"fan-1.txt":  "feedc0ffee00 k-y",
		"callee.txt": "feedc0ffee00 c-z",
	} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if got := strings.TrimSpace(string(b)); err != nil || got != want {
			t.Errorf("%s: %q (%v); want %q", file, got, err, want)
		}
	}
}

// TestRestoreWithLimitAndRate: restored items of a block with limit: and
// rate: take no limit slot and wait for no rate; the rest run within both.
func TestRestoreWithLimitAndRate(t *testing.T) {
	items := map[string]Restored{}
	for i := range 98 {
		items[strconv.Itoa(i)] = Restored{Succeeded: true, Output: i, Attempts: 1}
	}
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel:
      items: "${{ 0..99 }}"
      workers: 4
      rate: 2/s
      limit: {key: "${{ item % 2 }}", max: 1}
    probe: {out: "${{ item }}", record: "${{ string(item) }}"}
`, Options{Restorer: &memRestorer{items: map[string]map[string]Restored{"fan": items}}})
	fan := rep.Step("fan")
	if got := slices.Sorted(slices.Values(probes.started)); !slices.Equal(got, []string{"98", "99"}) {
		t.Errorf("ran %v; want 98 and 99", got)
	}
	if fan.Status != Succeeded || fan.Restored != 98 || fan.Summary.Succeeded != 100 {
		t.Fatalf("fan %s (%s): restored %d, summary %+v", fan.Status, fan.Error, fan.Restored, fan.Summary)
	}
	for i, r := range fan.Results {
		if r.Output != i {
			t.Errorf("result %d: output %v", i, r.Output)
		}
	}
}
