package stepjson

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/internal/jsonenc"
	"github.com/flowrun/flowrun/pkg/steps"
)

func TestCheckText(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, tt := range []struct {
		text, want string
		ok         bool
	}{
		{`{"b":1,"a":[2.50,9007199254740993]}`, `{"b":1,"a":[2.50,9007199254740993]}`, true},
		{"\r\n {\"a\": [1, {}]}\n", `{"a":[1,{}]}`, true},
		{`"text"`, `"text"`, true},
		{`null`, `null`, true},
		{deep(steps.MaxJSONDepth), deep(steps.MaxJSONDepth), true},
		{deep(steps.MaxJSONDepth + 1), "", false},
		{`{"a":1,"a":2}`, "", false},
		{`{"u":"\u00e9"}`, "", false},
		{`{"n":"é"}`, "", false},
		{`{"a":nope}`, "", false},
		{`{} {}`, "", false},
		{"", "", false},
		{"\v", "", false},
	} {
		got, ok := CheckText([]byte(tt.text))
		if ok != tt.ok || string(got.Bytes()) != tt.want {
			t.Errorf("CheckText(%.40q) = %.40s, %v; want %.40s, %v", tt.text, got.Bytes(), ok, tt.want, tt.ok)
		}
	}
	in := []byte(`{"a":1}`)
	got, _ := CheckText(in)
	in[2] = 'b'
	if string(got.Bytes()) != `{"a":1}` {
		t.Errorf("the Text shares its caller's bytes: %s", got.Bytes())
	}
}

// TestObjectAsFlowrunWrites: an Object's bytes are those jsonenc.Output
// writes for the map it stands for (a Text as the json.RawMessage of its
// text), with a plain shape: what flowrun takes them for without
// encoding the map.
func TestObjectAsFlowrunWrites(t *testing.T) {
	body, _ := CheckText([]byte(`{"zz":1,"b":[true,null]}`))
	headers, err := Value(map[string]any{"Content-Type": "application/json", "X-Note": "é \"q\" \\ \u2028 <&>"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Object(
		Field{"status", 200}, Field{"body", body}, Field{"headers", headers},
		Field{"duration_ms", 1.25}, Field{"none", nil}, Field{"empty", Text{}},
		Field{"list", []any{"a", int64(1), 2.5, map[string]any{"k": false}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	var hm map[string]any
	if err := json.Unmarshal(headers.Bytes(), &hm); err != nil {
		t.Fatal(err)
	}
	want, shape, err := jsonenc.Output(nil, map[string]any{
		"status": 200, "body": json.RawMessage(body.Bytes()), "headers": hm,
		"duration_ms": 1.25, "none": nil, "empty": nil,
		"list": []any{"a", int64(1), 2.5, map[string]any{"k": false}},
	})
	if err != nil || !shape.Plain || string(out.Bytes()) != string(want) {
		t.Errorf("Object wrote\n%s\njsonenc.Output writes\n%s (shape %+v, %v)", out.Bytes(), want, shape, err)
	}
	if b, err := json.Marshal(map[string]any{"x": out}); err != nil || !json.Valid(b) {
		t.Errorf("an Output inside encoding/json: %s, %v", b, err)
	}
}

func TestObjectRefuses(t *testing.T) {
	for name, fields := range map[string][]Field{
		"a key twice":   {{"a", 1}, {"b", 2}, {"a", 3}},
		"NaN":           {{"x", math.NaN()}},
		"NaN in a list": {{"x", []any{math.Inf(1)}}},
		"typed value":   {{"x", []string{"a"}}},
		"a struct":      {{"x", struct{ A int }{1}}},
		"a Text inside": {{"x", []any{Text{}}}},
	} {
		if _, err := Object(fields...); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Value(Text{}); err == nil {
		t.Error("Value of a Text: no error")
	}
}

// TestObjectKeys: a key is written as jsonenc.AppendString writes it,
// whatever bytes it holds; a key that is not UTF-8 is refused (two such
// keys could be written, and read back, as one).
func TestObjectKeys(t *testing.T) {
	for c := range 256 {
		key := "k" + string([]byte{byte(c)}) + "é"
		out, err := Object(Field{key, 1})
		if c >= 0x80 {
			if err == nil {
				t.Errorf("key %q: no error", key)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		want := string(jsonenc.AppendString([]byte("{"), key)) + ":1}"
		if string(out.Bytes()) != want {
			t.Errorf("key %q written %s; want %s", key, out.Bytes(), want)
		}
	}
	if _, err := Object(Field{"k\xfe", 1}, Field{"k\xff", 2}); err == nil {
		t.Error("keys that are not UTF-8: no error")
	}
	if _, err := Value(map[string]any{"k\xfe": 1, "k\xff": 2}); err == nil {
		t.Error("map keys that are not UTF-8: no error")
	}
}

// TestDepthBounded: an Output nests at most 2,000 levels, however it is
// built — Objects of Objects, maps of maps, Texts — so that flowrun can
// write it and read it back.
func TestDepthBounded(t *testing.T) {
	o, err := Value(1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 * steps.MaxJSONDepth {
		if o, err = Object(Field{"a", o}); err != nil {
			t.Fatalf("level %d: %v", i+1, err)
		}
	}
	if _, err := Object(Field{"a", o}); err == nil {
		t.Error("an Object 2,001 levels deep: no error")
	}
	deep := any(1)
	for range 2*steps.MaxJSONDepth + 1 {
		deep = map[string]any{"a": deep}
	}
	if _, err := Value(deep); err == nil {
		t.Error("a map 2,001 levels deep: no error")
	}
	text, ok := CheckText([]byte(strings.Repeat("[", steps.MaxJSONDepth) + strings.Repeat("]", steps.MaxJSONDepth)))
	if !ok {
		t.Fatal("CheckText refused 1,000 levels")
	}
	wrapped := Output{}
	if wrapped, err = Object(Field{"t", text}); err != nil || wrapped.p.nesting() != steps.MaxJSONDepth+1 {
		t.Errorf("an Object of a 1,000-deep Text: depth %d, %v", wrapped.p.nesting(), err)
	}
	for range steps.MaxJSONDepth - 1 {
		wrapped, _ = Object(Field{"a", wrapped})
	}
	if _, err := Object(Field{"a", wrapped}); err == nil {
		t.Error("Objects around a Text, 2,001 levels deep: no error")
	}
	if b := wrapped.Bytes(); !json.Valid(b) {
		t.Error("a 2,000-deep Output is not valid JSON")
	}
}

func TestRawMessageRefused(t *testing.T) {
	for _, v := range []any{
		map[string]any{"x": json.RawMessage(`{"a":1,"a":2}`)},
		[]any{json.RawMessage(`1`)},
	} {
		if _, err := Value(v); err == nil {
			t.Errorf("Value(%v): no error", v)
		}
		if _, err := Object(Field{"v", v}); err == nil {
			t.Errorf("Object of %v: no error", v)
		}
	}
}
