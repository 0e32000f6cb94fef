package spec

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFreeFormAsWritten: in a value YAML decodes into any — a set:, items,
// an input's default — a key and a date are their text, as written: YAML
// would make 0x10: "16", ~: "<nil>", 1: and 1.0: one key, 2024-01-02 a
// time.Time (written "2024-01-02T00:00:00Z" into $ITEM), and a mapping
// with a number for a key one that the journal and the report cannot
// encode.
func TestFreeFormAsWritten(t *testing.T) {
	w, ds := parse(t, `
version: 1
inputs:
  day: {type: string, default: 2024-01-02}
  tags: {type: object, default: {1: a, 0x10: b}}
steps:
  - id: a
    set:
      day: 2001-12-14
      at: 2001-12-14 21:59:43.10
      codes: {1: a, 1.0: b, 0x10: c, 1.50: d, ~: e, 2024-01-02: f, 123456789012345678901234567890: g, 0123: h}
      n: &five 5
      aliased: {*five : x, five: *five}
  - id: b
    parallel: {items: [2024-01-02, {2024-01-03: x}]}
    run: echo
`)
	if ds.HasErrors() {
		t.Fatalf("unexpected errors:\n%v", ds)
	}
	if got := w.Inputs[0].Default; got != "2024-01-02" {
		t.Errorf("default of day: %#v", got)
	}
	if got, _ := json.Marshal(w.Inputs[1].Default); string(got) != `{"0x10":"b","1":"a"}` {
		t.Errorf("default of tags: %s", got)
	}
	st, _, err := w.Steps[0].Decode(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(st)
	if want := `{"aliased":{"5":"x","five":5},"at":"2001-12-14 21:59:43.10",` +
		`"codes":{"0123":"h","0x10":"c","1":"a","1.0":"b","1.50":"d","123456789012345678901234567890":"g","2024-01-02":"f","~":"e"},` +
		`"day":"2001-12-14","n":5}`; err != nil || string(got) != want {
		t.Errorf("set:\n got %s, %v\nwant %s", got, err, want)
	}
	items, err := w.Steps[1].Parallel.List.Eval(map[string]any{})
	if got, _ := json.Marshal(items); err != nil || string(got) != `["2024-01-02",{"2024-01-03":"x"}]` {
		t.Errorf("items: %s, %v", got, err)
	}
}

// TestFreeFormKeyNotText: a key that is a mapping or a list, which no JSON
// object holds, is an error at its position.
func TestFreeFormKeyNotText(t *testing.T) {
	_, ds := parse(t, `
version: 1
steps:
  - id: a
    set:
      x: {[1, 2]: a}
`)
	if len(ds) != 1 || ds[0].Summary != "a key must be text, not a list" || ds[0].Pos.Line != 5 || ds[0].Pos.Column != 11 {
		t.Fatalf("diagnostics:\n%v\nwant one error at 5:11", ds)
	}
}

// TestInputParseFreeForm: --set of a list or an object reads keys and
// dates as written too.
func TestInputParseFreeForm(t *testing.T) {
	for _, tc := range []struct{ typ, in, want string }{
		{"list", "[2024-01-02, {0x10: a, ~: b}]", `["2024-01-02",{"0x10":"a","~":"b"}]`},
		{"object", "{1: a, 1.0: b}", `{"1":"a","1.0":"b"}`},
	} {
		v, err := (&Input{Type: tc.typ}).Parse(tc.in)
		if got, _ := json.Marshal(v); err != nil || string(got) != tc.want {
			t.Errorf("Parse(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	if _, err := (&Input{Type: "object"}).Parse("{[1]: a}"); err == nil || !strings.Contains(err.Error(), "a key must be text") {
		t.Errorf("Parse of a list key: %v", err)
	}
}
