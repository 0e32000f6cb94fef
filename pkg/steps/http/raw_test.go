package http

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/internal/jsonenc"
	"github.com/flowrun/flowrun/pkg/stepjson"
	"github.com/flowrun/flowrun/pkg/steps"
)

// runUnread runs h once for an item whose output nobody reads
// (steps.Input.OutputUnread).
func runUnread(t *testing.T, h *HTTP) (map[string]any, error) {
	t.Helper()
	res := &steps.Resources{Workers: 4}
	t.Cleanup(func() { _ = res.Close() })
	out, err := h.Run(t.Context(), &steps.Input{StepID: "call", Index: 0, Attempt: 1, Resources: res, OutputUnread: true})
	if err != nil {
		return nil, err
	}
	if o, ok := out.(stepjson.Output); ok {
		return fromJSON(t, o.Bytes()), nil
	}
	return out.(map[string]any), nil
}

// fromJSON returns the map an output written as JSON (encoded) stands
// for, its body kept as its text, after checking that the JSON is what
// jsonenc.Output writes for that map, plainly: what the executor takes
// it for without encoding the map itself.
func fromJSON(t *testing.T, c []byte) map[string]any {
	t.Helper()
	var parts struct {
		Status     int             `json:"status"`
		Headers    map[string]any  `json:"headers"`
		Body       json.RawMessage `json:"body"`
		DurationMS float64         `json:"duration_ms"`
	}
	dec := json.NewDecoder(bytes.NewReader(c))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&parts); err != nil {
		t.Fatalf("output %s: %v", c, err)
	}
	m := map[string]any{"status": parts.Status, "headers": parts.Headers, "body": parts.Body, "duration_ms": parts.DurationMS}
	if string(parts.Body) == "null" {
		m["body"] = nil
	}
	want, shape, err := jsonenc.Output(nil, m)
	if err != nil || !shape.Plain || shape.NonFinite || !bytes.Equal(want, c) {
		t.Fatalf("output written as\n%s\nOutput writes its map as\n%s (shape %+v, error %v)", c, want, shape, err)
	}
	return m
}

// TestUnreadBodyKeptAsText: when nobody reads the output, a JSON body is
// checked and kept as its compacted text, which decodes to exactly what
// the body decodes to; text that would not read as it decodes (escapes,
// beyond ASCII) is decoded as always, and so is a body expect.json reads.
func TestUnreadBodyKeptAsText(t *testing.T) {
	tests := []struct {
		name, body string
		h          HTTP
		raw        string // the text kept; "" means decoded
		wantErr    string
	}{
		{name: "object", body: "{\"b\": [1, 2.50, 9007199254740993],\n \"a\": {\"x\": null}}\n", raw: `{"b":[1,2.50,9007199254740993],"a":{"x":null}}`},
		{name: "compact but for white space around it", body: "\r\n {\"a\":[1,{}]}\n", raw: `{"a":[1,{}]}`},
		{name: "compact already", body: `{"b":[1,2.50,9007199254740993],"a":{"x":null}}`, raw: `{"b":[1,2.50,9007199254740993],"a":{"x":null}}`},
		{name: "compact and invalid", body: `{"a":nope}`, wantErr: `response says it is JSON but is not: invalid character 'o' in literal null (expecting 'u'); body: {"a":nope}`},
		{name: "compact with a second value", body: `{}{}`, wantErr: "response says it is JSON but is not: more than one JSON value; body: {}{}"},
		{name: "escape", body: `{"u": "http\u003a//user:pw@host"}`},
		{name: "beyond ASCII", body: `{"name": "é"}`},
		{name: "read by expect.json", body: `{"ok": true}`, h: HTTP{Expect: Expect{JSON: mustExpr("body.ok")}}},
		{name: "blank", body: "  \n"},
		{name: "vertical tab", body: "\v", wantErr: "response says it is JSON but is not"},
		{name: "no-break space", body: " \u00a0\n", wantErr: "response says it is JSON but is not"},
		{name: "invalid", body: `{"a": nope}`, wantErr: `response says it is JSON but is not: invalid character 'o' in literal null (expecting 'u'); body: {"a": nope}`},
		{name: "two values", body: `{} {}`, wantErr: "response says it is JSON but is not: more than one JSON value; body: {} {}"},
		{name: "over the limit", body: `{"a": "` + string(make([]byte, 100)) + `"}`, h: HTTP{MaxBody: 50}, wantErr: "response body exceeds max_body of 50B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h
			h.URL = bodyServer(t, "application/json", tt.body)
			out, err := runUnread(t, &h)
			if tt.wantErr != "" {
				if err == nil || !containsText(err.Error(), tt.wantErr) {
					t.Fatalf("error %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			raw, isRaw := out["body"].(json.RawMessage)
			if tt.raw != "" {
				if !isRaw || string(raw) != tt.raw {
					t.Fatalf("body %T %s; want the text %s", out["body"], raw, tt.raw)
				}
			} else if isRaw {
				t.Fatalf("body kept as text %s; want it decoded", raw)
			}
			// Whatever its form, the body is what reading it decodes.
			got := out["body"]
			if isRaw {
				if got, err = steps.DecodeJSON(bytesReader(raw)); err != nil {
					t.Fatal(err)
				}
			}
			var want any
			if v, err := steps.DecodeJSON(stringReader(tt.body)); err == nil {
				want = v
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("body (-decoded +kept):\n%s", diff)
			}
		})
	}
}

func containsText(s, sub string) bool { return strings.Contains(s, sub) }

func bytesReader(b []byte) io.Reader  { return bytes.NewReader(b) }
func stringReader(s string) io.Reader { return strings.NewReader(s) }

// TestBodyParsedBound: a JSON body whose value would take more memory than
// steps.Input.MaxParsed fails before it is decoded, saying how to raise
// the bound; a large body within it decodes as a small one does.
func TestBodyParsedBound(t *testing.T) {
	dense := "[" + strings.Repeat(`{"":0},`, 20000) + `{"":0}]` // 140 KB of text, MBs of maps
	res := &steps.Resources{Workers: 4}
	t.Cleanup(func() { _ = res.Close() })
	h := &HTTP{URL: bodyServer(t, "application/json", dense)}
	_, err := h.Run(t.Context(), &steps.Input{StepID: "call", Index: 0, Attempt: 1, Resources: res, MaxParsed: 1 << 20})
	if err == nil || !strings.Contains(err.Error(), "more than the limit of 1 MiB") || !strings.Contains(err.Error(), "--max-parsed-output") || !steps.IsPermanent(err) {
		t.Fatalf("error %v; want a permanent error over the 1 MiB limit naming --max-parsed-output", err)
	}
	out, err := h.Run(t.Context(), &steps.Input{StepID: "call", Index: 0, Attempt: 1, Resources: res, MaxParsed: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	list, ok := out.(map[string]any)["body"].([]any)
	if !ok || len(list) != 20001 || !cmp.Equal(list[20000], map[string]any{"": 0}) {
		t.Errorf("body: %T of %d; want the 20001 objects", out.(map[string]any)["body"], len(list))
	}
}

// TestBodyParsedBoundUnread: a body whose value would pass MaxParsed fails
// the item whether or not its output is read (OutputUnread): kept as its
// text, it is decoded all the same by a resume (from the journal) and by
// masking (a URL or a secret in it), and whether a later step reads the
// block's outputs must not decide whether its items succeed.
func TestBodyParsedBoundUnread(t *testing.T) {
	dense := "[" + strings.Repeat(`{"":0},`, 20000) + `{"":0}]` // 140 KB of text, MBs of maps
	res := &steps.Resources{Workers: 4}
	t.Cleanup(func() { _ = res.Close() })
	h := &HTTP{URL: bodyServer(t, "application/json", dense)}
	for _, unread := range []bool{false, true} {
		_, err := h.Run(t.Context(), &steps.Input{StepID: "call", Index: 0, Attempt: 1, Resources: res, MaxParsed: 1 << 20, OutputUnread: unread})
		if err == nil || !strings.Contains(err.Error(), "more than the limit of 1 MiB") || !steps.IsPermanent(err) {
			t.Errorf("unread %v: error %v; want a permanent error over the 1 MiB limit", unread, err)
		}
	}
}

// TestUnreadBodyDuplicateKeys: a body with a key twice in one object is
// decoded, not kept as its text: decoding keeps the last value, which the
// report writes when the output is read, while the text would write both
// (a document some JSON readers refuse, and others read the first of).
// Equal keys in different objects are no reason to decode.
func TestUnreadBodyDuplicateKeys(t *testing.T) {
	var many, manyDup strings.Builder
	many.WriteString("{")
	for i := range 40 {
		fmt.Fprintf(&many, `"k%d":%d,`, i, i)
	}
	manyDup.WriteString(many.String() + `"k7":"again"}`)
	many.WriteString(`"k40":40}`)
	for _, tt := range []struct {
		body string
		raw  bool
	}{
		{`{"a":1,"a":2}`, false},
		{`{"a":1,"b":{"c":[{"x":1,"y":2,"x":3}]}}`, false},
		{`[{"a":1},{"b":[],"b":{}}]`, false},
		{manyDup.String(), false},
		{`{"a":{"a":1},"b":[{"a":2},{"a":3}],"ab":"a"}`, true},
		{`{"a":1,"ab":2,"b":"a"}`, true},
		{many.String(), true},
	} {
		h := HTTP{URL: bodyServer(t, "application/json", tt.body)}
		out, err := runUnread(t, &h)
		if err != nil {
			t.Fatal(err)
		}
		if _, isRaw := out["body"].(json.RawMessage); isRaw != tt.raw {
			t.Errorf("%.40s: kept as text %v; want %v", tt.body, isRaw, tt.raw)
		}
	}
}

// TestDiscardedOutputChecked: an item whose output is dropped
// (steps.Input.OutputDiscarded) has no output, and succeeds or fails
// exactly as one whose output is kept: the same status, body, bound and
// expectation checks, with the same messages.
func TestDiscardedOutputChecked(t *testing.T) {
	dense := "[" + strings.Repeat(`{"":0},`, 20000) + `{"":0}]` // 140 KB of text, MBs of maps
	srv := newServer(t)
	tests := []struct {
		name string
		h    HTTP
	}{
		{"object", HTTP{URL: bodyServer(t, "application/json", `{"a": [1, 2], "b": "x"}`)}},
		{"escapes and beyond ASCII", HTTP{URL: bodyServer(t, "application/json", `{"u": "\u00e9 é", "a": 1, "a": 2}`)}},
		{"blank", HTTP{URL: bodyServer(t, "application/json", "  \n")}},
		{"vertical tab", HTTP{URL: bodyServer(t, "application/json", "\v")}},
		{"no-break space", HTTP{URL: bodyServer(t, "application/json", "\u00a0")}},
		{"text", HTTP{URL: srv.URL + "/text"}},
		{"invalid", HTTP{URL: bodyServer(t, "application/json", `{"a": nope}`)}},
		{"two values", HTTP{URL: bodyServer(t, "application/json", `{} {}`)}},
		{"truncated", HTTP{URL: bodyServer(t, "application/json", `{"a": [1,`)}},
		{"html said to be JSON", HTTP{URL: srv.URL + "/bad-json"}},
		{"over max_body", HTTP{URL: bodyServer(t, "application/json", `{"a": "`+strings.Repeat("x", 100)+`"}`), MaxBody: 50}},
		{"over the parsed bound", HTTP{URL: bodyServer(t, "application/json", dense)}},
		{"status", HTTP{URL: srv.URL + "/status/503"}},
		{"expect.json holds", HTTP{URL: srv.URL + "/json", Expect: Expect{JSON: mustExpr("body.items == 3")}}},
		{"expect.json fails", HTTP{URL: srv.URL + "/json", Expect: Expect{JSON: mustExpr("body.items == 4")}}},
		{"body_contains holds", HTTP{URL: srv.URL + "/text", Expect: Expect{BodyContains: "flowrun"}}},
		{"body_contains fails", HTTP{URL: srv.URL + "/text", Expect: Expect{BodyContains: "nowhere"}}},
	}
	res := &steps.Resources{Workers: 4}
	t.Cleanup(func() { _ = res.Close() })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.h
			in := func(discarded bool) *steps.Input {
				return &steps.Input{StepID: "call", Index: 0, Attempt: 1, Resources: res, MaxParsed: 1 << 20, OutputUnread: true, OutputDiscarded: discarded}
			}
			kept, keptErr := h.Run(t.Context(), in(false))
			dropped, droppedErr := h.Run(t.Context(), in(true))
			if fmt.Sprint(keptErr) != fmt.Sprint(droppedErr) || steps.IsPermanent(keptErr) != steps.IsPermanent(droppedErr) {
				t.Fatalf("output kept: error %v (permanent %v)\noutput dropped: error %v (permanent %v)", keptErr, steps.IsPermanent(keptErr), droppedErr, steps.IsPermanent(droppedErr))
			}
			if keptErr == nil && kept == nil {
				t.Errorf("output kept: nil output")
			}
			if droppedErr == nil && dropped != nil && tt.h.Expect.JSON.IsZero() {
				t.Errorf("output dropped: output %v; want none", dropped)
			}
		})
	}
}

// TestBodyDepthBound: a JSON body nested deeper than steps.MaxJSONDepth
// fails the item, permanently and whatever is kept of it: a report or a
// journal could not hold it (encoding/json stops at 10,000 levels, and a
// report puts the body some levels down). At the limit it is read.
func TestBodyDepthBound(t *testing.T) {
	res := &steps.Resources{Workers: 4}
	t.Cleanup(func() { _ = res.Close() })
	for _, d := range []int{steps.MaxJSONDepth, steps.MaxJSONDepth + 1, 10000} {
		h := &HTTP{URL: bodyServer(t, "application/json", strings.Repeat("[", d)+strings.Repeat("]", d))}
		for _, in := range []steps.Input{{}, {OutputUnread: true}, {OutputUnread: true, OutputDiscarded: true}, {MaxParsed: 64 << 20}} {
			in.StepID, in.Attempt, in.Resources = "call", 1, res
			_, err := h.Run(t.Context(), &in)
			switch {
			case d <= steps.MaxJSONDepth && err != nil:
				t.Errorf("depth %d, unread %v, discarded %v: %v", d, in.OutputUnread, in.OutputDiscarded, err)
			case d > steps.MaxJSONDepth && (err == nil || !strings.Contains(err.Error(), "nested more than 1000 levels deep") || !steps.IsPermanent(err)):
				t.Errorf("depth %d, unread %v, discarded %v: error %v; want a permanent error naming the depth limit", d, in.OutputUnread, in.OutputDiscarded, err)
			}
		}
	}
}

// TestUnreadBodiesDoNotShare: a body kept as its text is a copy of its
// own, not the pooled buffer it was read into, which the next response
// overwrites.
func TestUnreadBodiesDoNotShare(t *testing.T) {
	var kept []json.RawMessage
	for _, body := range []string{`{"n":1}`, `{"n":2}`, `{"n": 3}`, `{"n":4}`} {
		h := HTTP{URL: bodyServer(t, "application/json", body)}
		out, err := runUnread(t, &h)
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, out["body"].(json.RawMessage))
	}
	for i, raw := range kept {
		if want := fmt.Sprintf(`{"n":%d}`, i+1); string(raw) != want {
			t.Errorf("body %d kept as %s; want %s", i, raw, want)
		}
	}
}
