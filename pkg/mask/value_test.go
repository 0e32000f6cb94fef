package mask

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

type tagged struct {
	Name  string   `json:"name"`
	Parts []string `json:"parts"`
	n     int
}

type label string

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

// TestMaskerValueAnyShape: whatever shape a value reaching a writer has —
// the typed slices and maps of expressions (split() gives []string),
// structs a step returns, pointers — a secret in it is masked, as the
// value's JSON reads, and a value with nothing to mask is left as it is.
func TestMaskerValueAnyShape(t *testing.T) {
	const secret = "hunter22-secret"
	m := New(secret)
	s := secret
	tests := []struct {
		name string
		in   any
		want string // the JSON of the masked value
	}{
		{"[]string", []string{"a", secret}, `["a","***"]`},
		{"[2]string", [2]string{secret, "b"}, `["***","b"]`},
		{"map[string]string", map[string]string{"k": "x " + secret}, `{"k":"x ***"}`},
		{"secret key", map[string]int{secret: 1}, `{"***":1}`},
		{"map[int][]string", map[int][]string{7: {secret}}, `{"7":["***"]}`},
		{"[]map[string][]string", []map[string][]string{{"a": {"ok", secret}}}, `[{"a":["ok","***"]}]`},
		{"[]any of []string", []any{[]string{secret}}, `[["***"]]`},
		{"struct", tagged{Name: secret, Parts: []string{secret}}, `{"name":"***","parts":["***"]}`},
		{"*struct", &tagged{Name: "x", Parts: []string{"p " + secret}}, `{"name":"x","parts":["p ***"]}`},
		{"*string", &s, `"***"`},
		{"named string", label(secret), `"***"`},
		{"[]label", []label{label(secret)}, `["***"]`},
		{"stringer", stringer{secret}, `{}`},
		{"json.Number", json.Number("12"), `12`},
		{"[]int", []int{1, 2}, `[1,2]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := m.Value(tt.in)
			b, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got %s; want %s", b, tt.want)
			}
			if strings.Contains(string(b), secret) || strings.Contains(fmtText(got), secret) {
				t.Errorf("the secret shows in %s / %s", b, fmtText(got))
			}
		})
	}
	// Nothing to mask: the value itself, type and all.
	for _, v := range []any{[]string{"a"}, map[int]string{1: "b"}, tagged{Name: "n"}, time.Unix(0, 0).UTC(), label("x"), json.Number("3")} {
		if got := m.Value(v); !reflect.DeepEqual(got, v) {
			t.Errorf("Value(%#v) = %#v; want it unchanged", v, got)
		}
	}
	// The argument is not modified.
	in := []string{secret}
	m.Value(in)
	if in[0] != secret {
		t.Error("Value modified its argument")
	}
}

// fmtText is how a text writer shows a value that is not plain.
func fmtText(v any) string {
	if s, ok := v.(interface{ String() string }); ok {
		return s.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestMaskerValueCycle: a map that holds itself cannot hang or crash the
// masker.
func TestMaskerValueCycle(t *testing.T) {
	m := New("hunter22-secret")
	c := map[string]any{"s": "hunter22-secret"}
	c["self"] = c
	got := m.Value(c).(map[string]any)
	if got["s"] != Replacement {
		t.Errorf("got %v", got["s"])
	}
}

// TestMaskerValueOpaqueUnchanged: a value judged by its JSON (a
// json.RawMessage, a struct) whose JSON holds a URL without credentials
// has nothing to mask: it is returned itself, not decoded into a copy —
// a report of 100,000 outputs kept as JSON that link to their resources
// must not be copied whole by masking — and what has something to mask
// still is.
func TestMaskerValueOpaqueUnchanged(t *testing.T) {
	const secret = "hunter22-secret"
	for _, m := range []*Masker{nil, New(), New(secret)} {
		for _, v := range []any{
			json.RawMessage(`{"self":"https://api.example.test/items/7","n":[1,2.50]}`),
			tagged{Name: "https://api.example.test/x"},
		} {
			got, changed := m.ValueChanged(v)
			if changed || !reflect.DeepEqual(got, v) {
				t.Errorf("ValueChanged(%s) = %#v, %v; want it itself, unchanged", fmtText(v), got, changed)
			}
		}
		for _, tc := range []struct {
			in   any
			want string
		}{
			{json.RawMessage(`{"u":"https://user:pw@example.test/"}`), `{"u":"https://user:***@example.test/"}`},
			{tagged{Name: "https://example.test/?token=abc"}, `{"name":"https://example.test/?token=***","parts":null}`},
		} {
			got, changed := m.ValueChanged(tc.in)
			if b, _ := json.Marshal(got); !changed || string(b) != tc.want {
				t.Errorf("ValueChanged(%s) = %s, %v; want %s", fmtText(tc.in), b, changed, tc.want)
			}
		}
	}
	m := New(secret)
	got, changed := m.ValueChanged(json.RawMessage(`{"t":"` + secret + `"}`))
	if b, _ := json.Marshal(got); !changed || string(b) != `{"t":"***"}` {
		t.Errorf("a secret in JSON: %s, %v", b, changed)
	}
}

// TestRawJSONMembers: JSON text is masked member by member: a member
// masking leaves alone keeps its bytes, two keys that mask alike keep the
// last one's value in sorted order in every run, and a secret that
// decoding hides (the first of a key twice, at any depth) is never
// written with the text.
func TestRawJSONMembers(t *testing.T) {
	m := New("pass&word!")
	got, changed := m.ValueChanged(json.RawMessage(`{"zz":{"b":1,"a":2},"u":"https://x.test/?token=pass&word!"}`))
	want := map[string]any{"zz": json.RawMessage(`{"b":1,"a":2}`), "u": "https://x.test/?token=***"}
	if !changed || !reflect.DeepEqual(got, want) {
		t.Errorf("member by member: %#v; want %#v", got, want)
	}
	for range 50 {
		got, _ := m.ValueChanged(json.RawMessage(`{"other":3,"pass&word!":1,"pass&word%21":2}`))
		if want := map[string]any{Replacement: json.Number("2"), "other": json.RawMessage(`3`)}; !reflect.DeepEqual(got, want) {
			t.Fatalf("keys masked alike: %#v; want %#v", got, want)
		}
	}
	for _, raw := range []string{
		`{"k":"pass&word!","k":"x"}`,
		`{"body":{"a":"pass&word!","a":"x"},"n":1}`,
		`[{"a":"pass&word!","a":"x"}]`,
	} {
		got, _ := m.ValueChanged(json.RawMessage(raw))
		b, err := json.Marshal(got)
		if err != nil || strings.Contains(string(b), "word") {
			t.Errorf("%s masked to %s (%v)", raw, b, err)
		}
	}
	if got, changed := m.ValueChanged(json.RawMessage(`{"u":"https://x.test/"}`)); changed || string(got.(json.RawMessage)) != `{"u":"https://x.test/"}` {
		t.Errorf("a URL with nothing to redact: %v, %v; want the text as it is", got, changed)
	}
}
