package spec

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
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

func TestResolveInputsEnv(t *testing.T) {
	w, ds := parse(t, `
version: 1
inputs:
  token: {type: string, secret: true, env: API_TOKEN, required: true}
  n: {type: integer, env: COUNT, default: 3}
  pin: {type: integer, secret: true, env: PIN}
steps:
  - id: a
    set: {x: 1}
`)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if in := w.Inputs[0]; !in.Secret || in.Env != "API_TOKEN" {
		t.Fatalf("token: secret %v, env %q; want true, API_TOKEN", in.Secret, in.Env)
	}
	tests := []struct {
		name string
		set  map[string]any
		env  map[string]string
		want map[string]any
		err  string
	}{
		{
			name: "env over default",
			env:  map[string]string{"API_TOKEN": "from-env", "COUNT": "9"},
			want: map[string]any{"token": "from-env", "n": 9, "pin": 0},
		},
		{
			name: "--set over env",
			set:  map[string]any{"token": "from-set", "n": "4"},
			env:  map[string]string{"API_TOKEN": "from-env", "COUNT": "9"},
			want: map[string]any{"token": "from-set", "n": 4, "pin": 0},
		},
		{
			name: "default when the variable is unset",
			env:  map[string]string{"API_TOKEN": "t"},
			want: map[string]any{"token": "t", "n": 3, "pin": 0},
		},
		{
			name: "an empty variable is unset",
			env:  map[string]string{"API_TOKEN": "t", "COUNT": ""},
			want: map[string]any{"token": "t", "n": 3, "pin": 0},
		},
		{
			name: "required names the variable",
			env:  map[string]string{"API_TOKEN": ""},
			err:  `input "token" is required: set the environment variable API_TOKEN or --set token=...`,
		},
		{
			name: "wrong type from env names the variable",
			env:  map[string]string{"API_TOKEN": "t", "COUNT": "lots"},
			err:  `input "n" (from $COUNT): want an integer, got "lots"`,
		},
		{
			name: "a secret's bad value is not shown",
			env:  map[string]string{"API_TOKEN": "t", "PIN": "hunter22"},
			err:  `input "pin" (from $PIN): want an integer; the value is secret, not shown`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			got, err := w.ResolveInputsEnv(tt.set, lookup)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v; want %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "hunter22") {
					t.Fatalf("error shows a secret: %v", err)
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

func TestSecretValues(t *testing.T) {
	w, ds := parse(t, `
version: 1
inputs:
  token: {secret: true}
  creds: {type: object, secret: true}
  plain: {default: visible}
steps:
  - id: a
    set: {x: 1}
`)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	got := w.SecretValues(map[string]any{"token": "t0k3n", "creds": map[string]any{"user": "u", "pass": "p4ss"}, "plain": "visible"})
	want := []string{"t0k3n", "u", "p4ss", `{"pass":"p4ss","user":"u"}`}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("SecretValues (-want +got):\n%s", diff)
	}
}

// TestNormalizeLargeIntegers checks that a whole number above the int
// range is kept, not wrapped to a negative number (YAML decodes it as a
// uint64, JSON with UseNumber as a json.Number), and that an integer
// input refuses it loudly.
func TestNormalizeLargeIntegers(t *testing.T) {
	got := Normalize([]any{uint64(18446744073709551615), uint64(7), json.Number("9007199254740993"), json.Number("18446744073709551615")})
	want := []any{uint64(18446744073709551615), 7, 9007199254740993, uint64(18446744073709551615)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Normalize (-want +got):\n%s", diff)
	}
	in := &Input{Name: "n", Type: "integer"}
	if _, err := in.Convert(uint64(18446744073709551615)); err == nil || !strings.Contains(err.Error(), "18446744073709551615, beyond") {
		t.Errorf("Convert(uint64 max) error %v; want one naming the number", err)
	}
}
