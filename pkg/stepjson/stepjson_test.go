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
// whatever bytes it holds.
func TestObjectKeys(t *testing.T) {
	for c := range 256 {
		key := "k" + string([]byte{byte(c)}) + "é"[:1+c%2]
		out, err := Object(Field{key, 1})
		if err != nil {
			t.Fatal(err)
		}
		want := string(jsonenc.AppendString([]byte("{"), key)) + ":1}"
		if string(out.Bytes()) != want {
			t.Errorf("key %q written %s; want %s", key, out.Bytes(), want)
		}
	}
}
