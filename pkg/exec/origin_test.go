package exec

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// spy is a Dispatcher that records the jobs it is handed and runs their
// items in this process, one at a time.
type spy struct {
	mu   sync.Mutex
	jobs []Job
}

func (d *spy) Dispatch(ctx context.Context, job *Job) error {
	d.mu.Lock()
	d.jobs = append(d.jobs, *job)
	d.mu.Unlock()
	for {
		it, ok, err := job.Next(ctx, 0)
		if err != nil || !ok {
			return err
		}
		res := job.Result(0, it.Index)
		job.Run(ctx, it, res)
		if err := job.Done(0, res); err != nil {
			return err
		}
	}
}

func (d *spy) blocks() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, j := range d.jobs {
		out = append(out, strings.Join(append(slices.Clone(j.Path), j.Step.ID), "/"))
	}
	return out
}

// A block with remote: false runs in the local pool: the run's Dispatcher
// never sees it.
func TestRemoteFalseStaysLocal(t *testing.T) {
	d := &spy{}
	rep := runYAML(t, `
version: 1
steps:
  - id: far
    parallel: {items: [1, 2]}
    probe: {out: "${{ item }}"}
  - id: near
    parallel: {items: [1, 2], remote: false}
    probe: {out: "${{ item }}"}
`, Options{Dispatcher: d})
	if rep.Status != Succeeded {
		t.Fatalf("run %s: %s", rep.Status, rep.Error)
	}
	if got := d.blocks(); !slices.Equal(got, []string{"far"}) {
		t.Errorf("dispatched %v; want only far", got)
	}
}

// A job says which run it belongs to, where its block sits among called
// workflows and what the run added to the environment: a workflow called
// by a single uses: step sends its blocks to the caller's Dispatcher under
// the top run's id, with the calling step's path and env:; one called by
// an item of a block runs its blocks where the item runs.
func TestJobOrigin(t *testing.T) {
	wf := loadFiles(t, map[string]string{
		"inner.yaml": `
version: 1
env: {INNER: i}
steps:
  - id: fan
    parallel: {items: [1, 2]}
    probe: {out: "${{ item }}"}
`,
		"main.yaml": `
version: 1
env: {TOP: t}
steps:
  - id: top
    parallel: {items: [1]}
    probe: {out: "${{ item }}"}
  - id: call
    uses: ./inner.yaml
    env: {STEP: s}
  - id: each
    parallel: {items: [1, 2]}
    uses: ./inner.yaml
`})
	d := &spy{}
	rep := Run(context.Background(), wf, Options{Dispatcher: d, Environ: []string{"HOME=/h"}})
	if rep.Status != Succeeded {
		t.Fatalf("run %s: %s", rep.Status, rep.Error)
	}
	got := d.blocks()
	slices.Sort(got)
	if want := []string{"call/fan", "each", "top"}; !slices.Equal(got, want) {
		t.Fatalf("dispatched %v; want %v (each's callees run their blocks in the item's process)", got, want)
	}
	for _, j := range d.jobs {
		if j.RunID != rep.RunID {
			t.Errorf("%s: RunID %q; want the top run's %q", j.Step.ID, j.RunID, rep.RunID)
		}
		if j.Start.IsZero() {
			t.Errorf("%s: no Start", j.Step.ID)
		}
		// The run's id travels with what the run added, so that a
		// worker's processes see FLOWRUN_RUN_ID too.
		want := []string{"FLOWRUN_RUN_ID=" + rep.RunID, "TOP=t"}
		if len(j.Path) > 0 {
			want = []string{"FLOWRUN_RUN_ID=" + rep.RunID, "TOP=t", "STEP=s", "INNER=i"}
			if j.Scope.Run.ID == rep.RunID {
				t.Errorf("called block: Scope.Run.ID is the top run's; want the called run's own")
			}
		}
		if diff := cmp.Diff(want, j.Env); diff != "" {
			t.Errorf("%s: Env (-want +got):\n%s", j.Step.ID, diff)
		}
	}
}
