package basic_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/flowrun/flowrun/pkg/steps"
	"github.com/flowrun/flowrun/pkg/steps/basic"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestSleep(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		d       time.Duration
		wantErr error
	}{
		{name: "zero", ctx: context.Background()},
		{name: "short", ctx: context.Background(), d: time.Millisecond},
		{name: "cancelled", ctx: canceled, d: time.Hour, wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := (&basic.Sleep{Duration: tt.d}).Run(tt.ctx, &steps.Input{})
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("got error %v; want %v", err, tt.wantErr)
			}
			if out != nil {
				t.Errorf("got output %v; want nil", out)
			}
		})
	}
}

// TestSleepCancelledWhileWaiting checks that a sleep already under way
// stops when the run is cancelled.
func TestSleepCancelledWhileWaiting(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := (&basic.Sleep{Duration: time.Hour}).Run(ctx, &steps.Input{})
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got error %v; want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sleep still running 10s after cancel")
	}
}

func TestSleepValidate(t *testing.T) {
	t.Parallel()
	if err := (&basic.Sleep{Duration: -time.Second}).Validate(); err == nil {
		t.Error("got no error for a negative duration; want one")
	}
	if err := (&basic.Sleep{Duration: time.Second}).Validate(); err != nil {
		t.Errorf("got error %v; want none", err)
	}
}

func TestLog(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, msg, want string }{
		{"line", "copying ns-1", "copying ns-1\n"},
		{"block scalar", "two\nlines\n", "two\nlines\n"},
		{"empty", "", "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			out, err := (&basic.Log{Message: tt.msg}).Run(context.Background(), &steps.Input{Log: &log})
			if err != nil {
				t.Fatal(err)
			}
			if got := log.String(); got != tt.want {
				t.Errorf("got log %q; want %q", got, tt.want)
			}
			if out != tt.msg {
				t.Errorf("got output %q; want %q", out, tt.msg)
			}
		})
	}
}

func TestSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		set  basic.Set
		want map[string]any
	}{
		{"values", basic.Set{"workers": 8, "region": "eu", "tags": []any{"a"}}, map[string]any{"workers": 8, "region": "eu", "tags": []any{"a"}}},
		{"nil", nil, map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := tt.set.Run(context.Background(), &steps.Input{})
			if err != nil {
				t.Fatal(err)
			}
			got, ok := out.(map[string]any)
			if !ok {
				t.Fatalf("got output of type %T; want map[string]any", out)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			got["added"] = true
			if _, ok := tt.set["added"]; ok {
				t.Error("changing the output changed the step; want a copy")
			}
		})
	}
}

func TestAssert(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		step    basic.Assert
		wantErr string
	}{
		{name: "holds", step: basic.Assert{That: true, Message: "unused"}},
		{name: "fails", step: basic.Assert{Message: "3 namespaces failed"}, wantErr: "3 namespaces failed"},
		{name: "fails without message", step: basic.Assert{}, wantErr: "assertion failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := tt.step.Run(context.Background(), &steps.Input{})
			if out != nil {
				t.Errorf("got output %v; want nil", out)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("got error %v; want none", err)
				}
				return
			}
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("got error %v; want %q", err, tt.wantErr)
			}
			if !steps.IsPermanent(err) {
				t.Error("got a retryable error; want a permanent one")
			}
		})
	}
}
