package cli

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/spec"
)

func TestRunningStats(t *testing.T) {
	start := time.Unix(1000, 0)
	tests := []struct {
		name                      string
		total                     int
		started, finished, failed int64
		elapsed                   time.Duration
		want                      string
	}{
		{"nothing yet", 100, 4, 0, 0, time.Second, "0/100 done, 0 failed, 4 running"},
		{"half way", 100, 54, 50, 2, 10 * time.Second, "50/100 done, 2 failed, 4 running, 5.0/s, ETA 10s"},
		{"long", 100, 14, 10, 0, 10 * time.Second, "10/100 done, 0 failed, 4 running, 1.0/s, ETA 2m0s"},
		{"unknown total", -1, 14, 10, 0, 10 * time.Second, "10 done, 0 failed, 4 running, 1.0/s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &running{block: true, total: tt.total, start: start}
			st.started.Store(tt.started)
			st.finished.Store(tt.finished)
			st.failed.Store(tt.failed)
			if got := st.stats(start.Add(tt.elapsed)); got != tt.want {
				t.Errorf("stats = %q; want %q", got, tt.want)
			}
		})
	}
}

// TestObserverWaiting: while a cluster has no worker for a block, its
// progress line says so, and the log says when the wait starts.
func TestObserverWaiting(t *testing.T) {
	var buf bytes.Buffer
	o := newObserver(slog.New(newLineHandler(&buf, false)), nil, nil, 0)
	defer o.close()
	s := &spec.Step{ID: "fan", Parallel: &spec.Parallel{}}
	o.StepStarted(s, 10)
	o.Waiting(s, true)
	o.Waiting(s, true)
	v, _ := o.blocks.Load(s)
	st := v.(*running)
	now := st.start.Add(time.Second)
	if got, want := st.stats(now), "0/10 done, 0 failed, 0 running, waiting for workers"; got != want {
		t.Errorf("stats = %q; want %q", got, want)
	}
	if got := strings.Count(buf.String(), "fan: waiting for workers"); got != 1 {
		t.Errorf("logged the wait %d times; want once:\n%s", got, buf.String())
	}
	o.Waiting(s, false)
	if got := st.stats(now); strings.Contains(got, "waiting") {
		t.Errorf("stats = %q after a worker came", got)
	}
}

// TestObserverBoundsFailureLogs: a block with many failures logs the
// first ones as they happen, then says the rest are in the summary.
func TestObserverBoundsFailureLogs(t *testing.T) {
	var buf bytes.Buffer
	o := newObserver(slog.New(newLineHandler(&buf, false)), nil, nil, 0)
	defer o.close()
	s := &spec.Step{ID: "fan"}
	o.StepStarted(s, 100)
	for i := range 100 {
		o.ItemStarted(s, i)
		o.ItemFinished(s, &exec.ItemResult{Index: i, Status: exec.Failed, Error: "boom", LogTail: "why"})
	}
	if got, want := strings.Count(buf.String(), "flowrun: error: boom\n  | why\n"), maxItemFailuresLogged; got != want {
		t.Errorf("logged %d failures; want %d:\n%s", got, want, buf.String())
	}
	if !strings.Contains(buf.String(), "flowrun: warning: fan: more items failed; the summary lists them all\n") {
		t.Errorf("no line saying more failed:\n%s", buf.String())
	}
	if got := len(o.Failures()); got != 100 {
		t.Errorf("Failures() has %d; want 100", got)
	}
}

// BenchmarkObserverItemFinished measures what the observer adds to each
// item of a block, against an observer that does nothing.
func BenchmarkObserverItemFinished(b *testing.B) {
	s := &spec.Step{ID: "fan"}
	res := &exec.ItemResult{Status: exec.Succeeded}
	b.Run("nop", func(b *testing.B) {
		var o exec.Observer = nopObserver{}
		for i := 0; b.Loop(); i++ {
			o.(exec.ItemStarter).ItemStarted(s, i)
			o.ItemFinished(s, res)
		}
	})
	b.Run("observer", func(b *testing.B) {
		o := newObserver(slog.New(newLineHandler(&bytes.Buffer{}, false)), nil, nil, 0)
		defer o.close()
		o.StepStarted(s, b.N)
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			o.ItemStarted(s, i)
			o.ItemFinished(s, res)
		}
	})
}

type nopObserver struct{}

func (nopObserver) StepStarted(*spec.Step, int)               {}
func (nopObserver) ItemStarted(*spec.Step, int)               {}
func (nopObserver) ItemFinished(*spec.Step, *exec.ItemResult) {}
func (nopObserver) StepFinished(*spec.Step, *exec.StepReport) {}

func TestFmtMS(t *testing.T) {
	tests := []struct {
		ms   float64
		want string
	}{
		{0, "0"}, {0.0004, "<1µs"}, {0.04, "40µs"}, {0.9994, "999µs"}, {1, "1.0ms"},
		{9.96, "10.0ms"}, {12.4, "12ms"}, {1500, "1.50s"},
	}
	for _, tt := range tests {
		if got := fmtMS(tt.ms); got != tt.want {
			t.Errorf("fmtMS(%v) = %q; want %q", tt.ms, got, tt.want)
		}
	}
}

// TestRunningStatsDuration: a block with duration: ends when it passes,
// whatever its item count says.
func TestRunningStatsDuration(t *testing.T) {
	start := time.Now()
	st := &running{step: &spec.Step{ID: "load", Parallel: &spec.Parallel{Duration: time.Minute}}, block: true, total: 1000000, start: start}
	st.started.Store(2000)
	st.finished.Store(2000)
	if got, want := st.stats(start.Add(10*time.Second)), "2000/1000000 done, 0 failed, 0 running, 200.0/s, ETA 50s"; got != want {
		t.Errorf("stats = %q; want %q", got, want)
	}
}
