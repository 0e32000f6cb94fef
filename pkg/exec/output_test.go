package exec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseOutput(t *testing.T) {
	tests := []struct {
		format string
		in     any
		want   any
		err    string
	}{
		{"text", "hello\n", "hello", ""},
		{"text", "a\nb\n\n", "a\nb", ""},
		{"json", `{"n": 3, "f": 1.5, "l": [1, "x"]}` + "\n", map[string]any{"n": 3, "f": 1.5, "l": []any{1, "x"}}, ""},
		{"json", "not json", nil, "output is not JSON"},
		{"json", "1 2", nil, "more than one JSON value"},
		{"json", strings.Repeat("[", 1001) + strings.Repeat("]", 1001), nil, "output: json: 2002 bytes of JSON: JSON nested more than 1000 levels deep"},
		{"lines", "a\r\nb\nc\n", []any{"a", "b", "c"}, ""},
		{"lines", "", []any{}, ""},
		{"json", map[string]any{"k": 1}, map[string]any{"k": 1}, ""}, // not text: kept
	}
	for _, tt := range tests {
		got, err := parseOutput(tt.in, tt.format, DefaultMaxParsed)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseOutput(%q, %s) error = %v; want %q", tt.in, tt.format, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseOutput(%q, %s): %v", tt.in, tt.format, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parseOutput(%q, %s) (-want +got):\n%s", tt.in, tt.format, diff)
		}
	}
}

func TestWorkflowEnvErrorCancelsSteps(t *testing.T) {
	rep := runYAML(t, `
version: 1
inputs:
  n: {type: integer, default: 0}
env:
  PICK: "${{ ['x'][inputs.n + 5] }}"
steps:
  - id: a
    probe: {}
finally:
  - id: tidy
    probe: {out: "${{ run.status }}"}
`, Options{})
	if rep.Status != Failed || !strings.Contains(rep.Error, "test.yaml:5:") {
		t.Errorf("run %s %q; want failed, naming the env expression's position", rep.Status, rep.Error)
	}
	if a := rep.Step("a"); a.Status != Cancelled {
		t.Errorf("step a: %s; want cancelled, never started", a.Status)
	}
	if f := rep.Step("tidy"); f.Status != Succeeded || f.Output != "failed" {
		t.Errorf("finally: %s %v; want it to run and see run.status failed", f.Status, f.Output)
	}
}
