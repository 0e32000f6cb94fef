package state

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestDiff: what a resume refuses, named; what it accepts.
func TestDiff(t *testing.T) {
	// The recorded run as run.json gives it back: numbers as json.Number.
	recorded := func() *Run {
		d := New(t.TempDir())
		r := newRun("r1", "/w/wf.yaml", time.Time{})
		r.Inputs = map[string]any{"n": 1 << 60, "ratio": 0.5, "tags": []any{"a", "b"}, "name": "x"}
		r.SecretInputs = map[string]string{"token": "hmac-sha256:aa"}
		s, err := d.Create(r)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		back, err := readRun(d.RunDir("r1"))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := back.Inputs["n"].(json.Number); !ok {
			t.Fatalf("run.json read back n as %T; the test expects json.Number", back.Inputs["n"])
		}
		return back
	}
	now := func() *Run {
		r := newRun("", "/w/wf.yaml", time.Time{})
		r.Inputs = map[string]any{"n": 1 << 60, "ratio": 0.5, "tags": []any{"a", "b"}, "name": "x"}
		r.SecretInputs = map[string]string{"token": "hmac-sha256:aa"}
		return r
	}
	tests := []struct {
		name   string
		change func(*Run)
		want   []string
	}{
		{"same", func(*Run) {}, nil},
		{"workflow edited", func(r *Run) { r.WorkflowSHA256 = HashBytes([]byte("wf2")) },
			[]string{"/w/wf.yaml changed since the run (sha256 " + HashBytes([]byte("wf2"))[:12] + ", the run's " + HashBytes([]byte("wf"))[:12] + ")"}},
		{"another workflow", func(r *Run) { r.Workflow = "/w/other.yaml" },
			[]string{"the workflow is /w/other.yaml; the run's was /w/wf.yaml"}},
		{"callee edited, added, removed", func(r *Run) {
			r.Callees = map[string]string{"lib/a.yaml": HashBytes([]byte("a2")), "lib/b.yaml": "bb"}
		}, []string{
			"lib/a.yaml (called with uses:) changed since the run (sha256 " + HashBytes([]byte("a2"))[:12] + ", the run's " + HashBytes([]byte("a"))[:12] + ")",
			"lib/b.yaml is called with uses: now, but was not in the run",
		}},
		{"callee gone", func(r *Run) { r.Callees = nil }, []string{"lib/a.yaml was called with uses: in the run, but is not now"}},
		{"inputs", func(r *Run) {
			r.Inputs["n"] = 1<<60 + 1
			r.Inputs["name"] = "y"
			delete(r.Inputs, "ratio")
			r.Inputs["extra"] = true
			r.SecretInputs["token"] = "hmac-sha256:bb"
		}, []string{
			`input "extra" is new: the run had no such input`,
			`input "n" is 1152921504606846977; the run's was 1152921504606846976`,
			`input "name" is "y"; the run's was "x"`,
			`input "ratio" is gone: the run had it`,
			`secret input "token" differs from the run's (compared by keyed hash; not shown)`,
		}},
		{"secret no longer secret", func(r *Run) { r.SecretInputs = nil; r.Inputs["token"] = "t" },
			[]string{`input "token" is secret in one and not in the other`}},
		{"a long value is clipped", func(r *Run) { r.Inputs["name"] = string(bytes.Repeat([]byte("é"), 40)) },
			[]string{`input "name" is "` + string(bytes.Repeat([]byte("é"), 29)) + `…; the run's was "x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := now()
			tt.change(n)
			if diff := cmp.Diff(tt.want, recorded().Diff(n)); diff != "" {
				t.Errorf("Diff (-want +got):\n%s", diff)
			}
		})
	}
}
