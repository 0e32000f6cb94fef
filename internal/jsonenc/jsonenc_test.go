package jsonenc

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestAppendFloatMatchesJSON: the bytes encoding/json writes.
func TestAppendFloatMatchesJSON(t *testing.T) {
	for _, f := range []float64{0, -0.0, 1, -1, 0.1, 1.5, 1e-6, 9.99e-7, 1e-7, 123456789.125, 1e20, 1e21, 1.5e21, -1e-9, math.MaxFloat64, math.SmallestNonzeroFloat64, 5.942999839782715} {
		want, _ := json.Marshal(f)
		got, err := AppendFloat(nil, f)
		if err != nil || string(got) != string(want) {
			t.Errorf("AppendFloat(%v) = %s, %v; encoding/json writes %s", f, got, err, want)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := AppendFloat(nil, f); err == nil {
			t.Errorf("AppendFloat(%v) succeeded; JSON has no such number", f)
		}
	}
}

func FuzzAppendFloat(f *testing.F) {
	f.Add(1.5)
	f.Add(1e-7)
	f.Fuzz(func(t *testing.T, x float64) {
		want, werr := json.Marshal(x)
		got, err := AppendFloat(nil, x)
		if (err != nil) != (werr != nil) || err == nil && string(got) != string(want) {
			t.Fatalf("AppendFloat(%v) = %s, %v; encoding/json: %s, %v", x, got, err, want, werr)
		}
	})
}

// TestAppendStringMatchesJSON: the bytes encoding/json writes without its
// HTML escaping, escapes included. A masker looks for a secret in JSON
// text in that form (a secret holding a form feed as \f): text written
// otherwise would hide it.
func TestAppendStringMatchesJSON(t *testing.T) {
	var all strings.Builder
	for c := range 0x80 {
		all.WriteByte(byte(c))
	}
	for _, s := range []string{all.String(), "a\bb\fc", "é\u2028\u2029\xff\xc3", `"\/`} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := AppendString(nil, s); string(got) != strings.TrimSuffix(want.String(), "\n") {
			t.Errorf("AppendString(%q) = %s; encoding/json writes %s", s, got, want.String())
		}
	}
}

// TestAppendValueMatchesJSON: what AppendValue writes decodes to what
// json.Marshal's output decodes to, and it fails where json.Marshal does.
func TestAppendValueMatchesJSON(t *testing.T) {
	self := map[string]any{}
	self["me"] = self
	for _, v := range []any{
		nil, "", "a\"<>&\u2028\xff", true, false, 0, -7, 1 << 62, int64(-5), uint64(math.MaxUint64), 1.5, 1e-9, 1e300,
		[]any{}, []any{1, "x", nil, []any{map[string]any{}}},
		map[string]any{"b": 1, "a": []any{"z"}, "": nil, "é": map[string]any{"k": 2.5}},
		json.Number("123456789012345678901234567890"), []string{"typed"}, struct{ A int }{3},
	} {
		want, werr := json.Marshal(v)
		got, err := AppendValue(nil, v)
		if (err != nil) != (werr != nil) {
			t.Errorf("%#v: error %v; json.Marshal: %v", v, err, werr)
			continue
		}
		if err != nil {
			continue
		}
		var a, b any
		if err := json.Unmarshal(want, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got, &b); err != nil {
			t.Errorf("%#v: wrote invalid JSON %s: %v", v, got, err)
			continue
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%#v: wrote %s; json.Marshal %s", v, got, want)
		}
	}
	if _, err := AppendValue(nil, self); err == nil {
		t.Error("a map that contains itself: no error")
	}
	// NaN and infinities are written as the strings flowrun shows them as.
	got, err := AppendValue(nil, []any{math.NaN(), map[string]any{"x": math.Inf(1), "y": math.Inf(-1)}})
	if want := `["NaN",{"x":"+Inf","y":"-Inf"}]`; err != nil || string(got) != want {
		t.Errorf("non-finite floats: %s, %v; want %s", got, err, want)
	}
}

// FuzzAppendValue: any JSON document, decoded as flowrun decodes outputs,
// encodes back to the same value.
func FuzzAppendValue(f *testing.F) {
	f.Add(`{"a":[1,2.5,"x",null,true,{"b":{}}]}`)
	f.Add(`"\u2028<"`)
	f.Fuzz(func(t *testing.T, doc string) {
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			return
		}
		got, err := AppendValue(nil, v)
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		var back any
		if err := json.Unmarshal(got, &back); err != nil || !reflect.DeepEqual(v, back) {
			t.Fatalf("%s: wrote %s (%v)", doc, got, err)
		}
	})
}

// TestAppendPlain: what AppendPlain calls plain is what a reader can judge
// from the JSON alone; the rest is written all the same.
func TestAppendPlain(t *testing.T) {
	many := map[string]any{}
	for i := range 40 {
		many[string(rune('z'-i%26))+string(rune('a'+i))] = i
	}
	for _, tc := range []struct {
		v     any
		want  string
		plain bool
	}{
		{map[string]any{"b": 1, "a": []any{"x", 2.5, nil, true}}, `{"a":["x",2.5,null,true],"b":1}`, true},
		{map[string]any{"s": "é\u2028"}, `{"s":"é\u2028"}`, true},
		{[]string{"typed"}, `["typed"]`, false},
		{map[string]any{"n": math.NaN()}, `{"n":"NaN"}`, false},
		{json.RawMessage(" {\"b\" : [1, 2.50]}\n"), `{"b":[1,2.50]}`, true},
		{json.RawMessage(`{"u":"a\u003ab"}`), `{"u":"a\u003ab"}`, false},
		{json.RawMessage(`{"u":"é"}`), `{"u":"é"}`, false},
		{json.RawMessage(nil), `null`, true},
		{json.RawMessage(`{"a":[1,"x y",{}]}`), `{"a":[1,"x y",{}]}`, true},
	} {
		got, plain, err := AppendPlain([]byte("x"), tc.v)
		if err != nil || string(got) != "x"+tc.want || plain != tc.plain {
			t.Errorf("AppendPlain(%#v) = %s, %v, %v; want x%s, %v", tc.v, got, plain, err, tc.want, tc.plain)
		}
	}
	// A map of more keys than fit on the stack is sorted all the same.
	got, plain, err := AppendPlain(nil, many)
	want, _ := json.Marshal(many)
	if err != nil || !plain || string(got) != string(want) {
		t.Errorf("40 keys: %s, %v, %v; want %s", got, plain, err, want)
	}
	if _, _, err := AppendPlain(nil, json.RawMessage(`{"a":}`)); err == nil {
		t.Error("AppendPlain wrote compact-looking text that is not JSON")
	}
	if _, _, err := AppendPlain(nil, json.RawMessage(`{"a":`)); err == nil {
		t.Error("AppendPlain wrote a json.RawMessage that is not JSON")
	}
}

// TestAppendShape: NonFinite is set exactly when a float of the value's
// plain shapes was written as a string, deep or not, and apart from the
// other reasons a value is not plain.
func TestAppendShape(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want Shape
	}{
		{map[string]any{"a": []any{1.5, "NaN"}}, Shape{Plain: true}},
		{[]string{"NaN"}, Shape{}},
		{json.RawMessage(`{"u":"é"}`), Shape{}},
		{math.Inf(-1), Shape{NonFinite: true}},
		{map[string]any{"a": []any{map[string]any{"b": math.NaN()}}}, Shape{NonFinite: true}},
		{[]any{[]string{"x"}, math.Inf(1)}, Shape{NonFinite: true}},
	} {
		_, got, err := AppendShape(nil, tc.v)
		if err != nil || got != tc.want {
			t.Errorf("AppendShape(%#v) = %+v, %v; want %+v", tc.v, got, err, tc.want)
		}
	}
}

// TestAppendThousandths holds the fast path to strconv: wherever it
// writes, it writes what strconv.AppendFloat(b, f, 'f', -1, 64) does,
// over every thousandth to 1,000 s, around powers of ten, up to its bound,
// and over random doubles (where it must mostly decline).
func TestAppendThousandths(t *testing.T) {
	check := func(f float64) bool {
		got, ok := AppendThousandths([]byte("x"), f)
		if !ok {
			if string(got) != "x" {
				t.Fatalf("%v: declined but wrote %q", f, got)
			}
			return false
		}
		if want := strconv.AppendFloat([]byte("x"), f, 'f', -1, 64); string(got) != string(want) {
			t.Fatalf("%v (%b): %q, strconv %q", f, math.Float64bits(f), got, want)
		}
		return true
	}
	for us := int64(-1_000_000); us <= 1_000_000; us++ {
		if f := float64(us) / 1000; !check(f) && f != 0 {
			t.Fatalf("%v: declined a whole number of thousandths", f)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		us := rng.Int64N(2e15) - 1e15 // to ±1e12 ms
		check(float64(us) / 1000)
		check(math.Float64frombits(rng.Uint64()))
		check(rng.Float64() * 1e3)
	}
	for e := -3; e <= 12; e++ {
		p := math.Pow(10, float64(e))
		for _, f := range []float64{p, -p, math.Nextafter(p, 0), math.Nextafter(p, 2*p), p - 0.001, p + 0.001} {
			check(f)
		}
	}
	tenth, fifth := 0.1, 0.2 // variables: as constants their sum is 0.3
	for _, f := range []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 1e12, -1e12, 999999999999.999, 1e-3, 1.5e-3, tenth + fifth} {
		check(f)
	}
	if _, ok := AppendThousandths(nil, tenth+fifth); ok {
		t.Errorf("0.1+0.2 is not a whole number of thousandths; want it declined")
	}
}

// TestOutputDepth: Output writes lists and maps nested up to maxDepth —
// room for a value read at steps.MaxJSONDepth inside outputs — and
// refuses deeper ones with ErrTooDeep instead of writing them another
// way: encoding/json could not read them back inside a journal line or a
// report. A scalar at the bottom does not count as a level.
func TestOutputDepth(t *testing.T) {
	nest := func(d int, bottom any) any {
		v := bottom
		for i := range d {
			if i%2 == 0 {
				v = []any{v}
			} else {
				v = map[string]any{"k": v}
			}
		}
		return v
	}
	for _, tt := range []struct {
		v    any
		deep bool
	}{
		{nest(maxDepth, 1), false},
		{nest(maxDepth, nil), false},
		{nest(maxDepth+1, 1), true},
		{nest(10000, "x"), true},
		{[]any{nest(maxDepth, json.RawMessage(`[[[1]]]`))}, true},
		{nest(maxDepth-1, json.RawMessage(`[[[1]]]`)), false},
	} {
		b, _, err := Output(nil, tt.v)
		if tt.deep != errors.Is(err, ErrTooDeep) {
			t.Errorf("Output of a value %d bytes long: error %v; want ErrTooDeep %v", len(b), err, tt.deep)
		}
		if err == nil {
			var back any
			if err := json.Unmarshal(append(append([]byte(`{"report":{"steps":[{"output":`), b...), "}]}}"...), &back); err != nil {
				t.Errorf("written, it does not read back inside a report: %v", err)
			}
		}
	}
}
