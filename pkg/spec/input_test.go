package spec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestResolveInputs(t *testing.T) {
	w, ds := parse(t, `
version: 1
inputs:
  name: {type: string, default: world}
  n: {type: integer, default: 3}
  ratio: {type: number, default: 0.5}
  dry: {type: boolean}
  ids: {type: list, default: [1, 2]}
  opts: {type: object, default: {a: 1}}
  token: {type: string, required: true}
steps:
  - id: a
    set: {x: 1}
`)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	tests := []struct {
		name string
		set  map[string]any
		want map[string]any
		err  string
	}{
		{
			name: "defaults and zero values",
			set:  map[string]any{"token": "t"},
			want: map[string]any{"name": "world", "n": 3, "ratio": 0.5, "dry": false, "ids": []any{1, 2}, "opts": map[string]any{"a": 1}, "token": "t"},
		},
		{
			name: "command-line strings are typed",
			set:  map[string]any{"token": "t", "n": "7", "ratio": "2", "dry": "true", "ids": "[3]", "opts": `{"b": "c"}`, "name": "42"},
			want: map[string]any{"name": "42", "n": 7, "ratio": 2.0, "dry": true, "ids": []any{3}, "opts": map[string]any{"b": "c"}, "token": "t"},
		},
		{
			name: "typed values from a file",
			set:  map[string]any{"token": "t", "n": 4.0, "ids": []any{"x"}},
			want: map[string]any{"name": "world", "n": 4, "ratio": 0.5, "dry": false, "ids": []any{"x"}, "opts": map[string]any{"a": 1}, "token": "t"},
		},
		{name: "required", set: map[string]any{}, err: `input "token" is required: set it with --set token=...`},
		{name: "wrong type", set: map[string]any{"token": "t", "n": "3.5"}, err: `input "n": want an integer, got "3.5"`},
		{name: "wrong boolean", set: map[string]any{"token": "t", "dry": "maybe"}, err: `input "dry": want a boolean, got the string "maybe"`},
		{name: "unknown", set: map[string]any{"token": "t", "nmae": "x"}, err: `unknown input "nmae"; did you mean "name"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := w.ResolveInputs(tt.set)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v; want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("inputs (-want +got):\n%s", diff)
			}
		})
	}
}
