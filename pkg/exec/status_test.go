package exec

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// gates are the hooks of the test step types trip and await: trip calls
// the named function, await waits until the named channel is closed (or
// its context is done). Tests set them before a run.
var gates struct {
	mu    sync.Mutex
	trips map[string]func()
	waits map[string]chan struct{}
}

type trip struct {
	Call string `yaml:"call"`
}

func (s *trip) Run(ctx context.Context, in *steps.Input) (any, error) {
	gates.mu.Lock()
	f := gates.trips[s.Call]
	gates.mu.Unlock()
	f()
	return "tripped", nil
}

type await struct {
	For string `yaml:"for"`
}

func (s *await) Run(ctx context.Context, in *steps.Input) (any, error) {
	gates.mu.Lock()
	ch := gates.waits[s.For]
	gates.mu.Unlock()
	select {
	case <-ch:
		return "waited", nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func gateRegistry() *steps.Registry {
	r := registry()
	r.Register(steps.Info{Type: "trip", New: func() steps.Step { return new(trip) }})
	r.Register(steps.Info{Type: "await", New: func() steps.Step { return new(await) }})
	return r
}

// finishedObserver closes a channel when the named step finishes.
type finishedObserver struct {
	step string
	ch   chan struct{}
}

func (o *finishedObserver) StepStarted(*spec.Step, int)          {}
func (o *finishedObserver) ItemFinished(*spec.Step, *ItemResult) {}
func (o *finishedObserver) StepFinished(s *spec.Step, _ *StepReport) {
	if s.ID == o.step {
		close(o.ch)
	}
}

// statuses is every step's "status: reason" (or "status" alone).
func statuses(rep *Report) map[string]string {
	out := make(map[string]string, len(rep.Steps))
	for _, s := range rep.Steps {
		out[s.ID] = string(s.Status)
		if s.Reason != "" {
			out[s.ID] += ": " + s.Reason
		}
	}
	return out
}

// The same failing workflows end with the same statuses and reasons, run
// after run: a step not started because a dependency failed or was
// skipped is skipped, naming it; cancelled is only what ran or was ready
// when the run failed fast.
func TestStatusRuleIsDeterministic(t *testing.T) {
	cases := []struct {
		name, src string
		want      map[string]string
	}{{
		name: "chain",
		src: `
version: 1
steps:
  - {id: a, probe: {fail: true}}
  - {id: b, needs: [a], probe: {}}
  - {id: c, needs: [b], probe: {}}
  - {id: d, needs: [c], probe: {}}
`,
		want: map[string]string{
			"a": "failed", "b": `skipped: dependency "a" failed`,
			"c": `skipped: dependency "b" was skipped`, "d": `skipped: dependency "c" was skipped`,
		},
	}, {
		name: "fail-fast beside a running branch",
		src: `
version: 1
steps:
  - {id: a, probe: {fail: true}}
  - {id: x, probe: {block: true}}
  - {id: y, needs: [x], probe: {}}
  - {id: z, needs: [x, y, a], probe: {}}
`,
		want: map[string]string{
			"a": "failed", "x": `cancelled: step "a" failed`,
			"y": `skipped: dependency "x" was cancelled`, "z": `skipped: dependency "a" failed`,
		},
	}, {
		name: "status functions after a failed block",
		src: `
version: 1
steps:
  - id: fan
    parallel: {items: [1, 2, 3], on_error: continue}
    probe: {fail: "${{ item == 2 }}", out: "${{ item }}"}
  - id: report
    if: failure()
    probe: {out: "${{ steps.fan.summary.failed }} of ${{ steps.fan.summary.total }} failed"}
  - {id: publish, needs: [report], probe: {}}
  - {id: always, needs: [fan], if: "${{ always() }}", probe: {}}
  - {id: on_cancel, needs: [fan], if: cancelled(), probe: {}}
  - {id: on_success, needs: [fan], if: success(), probe: {}}
  - {id: plain, needs: [fan], probe: {}}
`,
		want: map[string]string{
			"fan": "failed", "report": "succeeded", "publish": `skipped: step "fan" upstream failed`,
			"always": "succeeded", "on_cancel": "skipped: if: cancelled() was false",
			"on_success": "skipped: if: success() was false", "plain": `skipped: dependency "fan" failed`,
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wf := load(t, tc.src)
			for i := range 50 {
				rep := Run(context.Background(), wf, Options{})
				if diff := cmp.Diff(tc.want, statuses(rep)); diff != "" {
					t.Fatalf("run %d: statuses (-want +got):\n%s", i+1, diff)
				}
				if rep.Status != Failed {
					t.Fatalf("run %d: %s; want failed", i+1, rep.Status)
				}
			}
		})
	}
}

// A failure does not cancel a step whose if: calls always() or failure():
// slow waits until boom has failed, then finishes.
func TestFailFastSparesStatusFunctionSteps(t *testing.T) {
	wf := loadWith(t, gateRegistry(), `
version: 1
steps:
  - {id: boom, probe: {fail: true}}
  - {id: slow, if: always(), await: {for: boom}}
  - {id: handler, if: "!failure()", await: {for: boom}}
  - {id: plain, probe: {block: true}}
  - {id: after, needs: [slow, handler], if: always(), probe: {out: "${{ steps.slow.output }} ${{ steps.handler.output }}"}}
`)
	for i := range 20 {
		obs := &finishedObserver{step: "boom", ch: make(chan struct{})}
		gates.mu.Lock()
		gates.waits = map[string]chan struct{}{"boom": obs.ch}
		gates.mu.Unlock()
		rep := Run(context.Background(), wf, Options{Observer: obs})
		want := map[string]string{
			"boom": "failed", "slow": "succeeded", "handler": "succeeded",
			"plain": `cancelled: step "boom" failed`, "after": "succeeded",
		}
		if diff := cmp.Diff(want, statuses(rep)); diff != "" {
			t.Fatalf("run %d: statuses (-want +got):\n%s", i+1, diff)
		}
		if out := rep.Step("after").Output; out != "waited waited" {
			t.Errorf("after read %v; want both outputs", out)
		}
	}
}

// An interrupt cancels what runs; steps whose if: calls cancelled() or
// always() run after it, those that call failure() or none are skipped.
func TestInterruptAndStatusFunctions(t *testing.T) {
	wf := loadWith(t, gateRegistry(), `
version: 1
steps:
  - {id: work, probe: {block: true}}
  - {id: stop, trip: {call: interrupt}}
  - {id: after, needs: [work], probe: {}}
  - {id: on_cancel, needs: [work], if: cancelled(), probe: {out: "${{ steps.work.status }}"}}
  - {id: always, needs: [work, stop], if: always(), probe: {}}
  - {id: on_failure, needs: [work], if: failure(), probe: {}}
  - {id: next, needs: [on_cancel], probe: {}}
finally:
  - {id: fin_cancel, if: cancelled(), probe: {}}
  - {id: fin_failure, if: failure(), probe: {}}
`)
	want := map[string]string{
		"work": "cancelled: interrupted", "stop": "succeeded",
		"after": `skipped: dependency "work" was cancelled`, "on_cancel": "succeeded", "always": "succeeded",
		"on_failure": "skipped: if: failure() was false", "next": `skipped: step "work" upstream was cancelled`,
		"fin_cancel": "succeeded", "fin_failure": "skipped: if: failure() was false",
	}
	for i := range 20 {
		ctx, cancel := context.WithCancelCause(context.Background())
		gates.mu.Lock()
		gates.trips = map[string]func(){"interrupt": func() { cancel(ErrInterrupted) }}
		gates.mu.Unlock()
		rep := Run(ctx, wf, Options{})
		cancel(nil)
		if diff := cmp.Diff(want, statuses(rep)); diff != "" {
			t.Fatalf("run %d: statuses (-want +got):\n%s", i+1, diff)
		}
		if rep.Status != Cancelled || rep.Step("on_cancel").Output != "cancelled" {
			t.Fatalf("run %d: %s, on_cancel read %v; want cancelled, cancelled", i+1, rep.Status, rep.Step("on_cancel").Output)
		}
	}
}

// In a finally step, the status functions describe the main steps.
func TestStatusFunctionsInFinally(t *testing.T) {
	for _, fail := range []bool{false, true} {
		rep := runYAML(t, fmt.Sprintf(`
version: 1
steps:
  - {id: a, probe: {fail: %v}}
finally:
  - {id: on_success, if: success(), probe: {}}
  - {id: on_failure, if: failure(), probe: {}}
  - {id: on_cancel, if: cancelled(), probe: {}}
  - {id: always, if: always(), probe: {}}
`, fail), Options{})
		got := statuses(rep)
		ran := []string{}
		for _, id := range []string{"on_success", "on_failure", "on_cancel", "always"} {
			if got[id] == "succeeded" {
				ran = append(ran, id)
			} else if !strings.HasPrefix(got[id], "skipped: if: ") {
				t.Errorf("fail=%v: %s is %q; want succeeded or skipped by its if:", fail, id, got[id])
			}
		}
		want := "on_success always"
		if fail {
			want = "on_failure always"
		}
		if strings.Join(ran, " ") != want {
			t.Errorf("fail=%v: ran %v; want %s", fail, ran, want)
		}
	}
}
