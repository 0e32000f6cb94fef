package steps

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDecodeJSONLimit: the bounded decoder gives DecodeJSON's values.
func TestDecodeJSONLimit(t *testing.T) {
	for _, in := range []string{
		`{"ids":[1234567890123456789, 9007199254740993, 18446744073709551615], "s": "a\"b", "n": null}`,
		`[-9223372036854775808, 1.5, 1e3, 2.0, 1e400, -0, true, false, null, [], {}, [[1]], {"a": {"b": []}}]`,
		` "x" `, `7`, `[]`, `{}`, `[ ]`,
	} {
		want, err := DecodeJSON(strings.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeJSONLimit(in, 1<<20)
		if err != nil {
			t.Errorf("DecodeJSONLimit(%s): %v", in, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("DecodeJSONLimit(%s) (-DecodeJSON +got):\n%s", in, diff)
		}
	}
	for in, want := range map[string]string{
		`1 2`: "more than one JSON value", ``: "unexpected EOF", `[1,`: "EOF", `{"a"}`: "expected colon", `[1] x`: "invalid character",
	} {
		if _, err := DecodeJSONLimit(in, 1<<20); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DecodeJSONLimit(%q) error %v; want %q", in, err, want)
		}
	}
	var le *MemoryLimitError
	if _, err := DecodeJSONLimit(`[{"a":1},{"a":2},{"a":3}]`, 500); !errors.As(err, &le) || le.Limit != 500 || le.Need <= 500 {
		t.Errorf("over the limit: %v; want a MemoryLimitError", err)
	}
}

// TestJSONCostBounds: JSONCost is at least what a decoded value keeps, for
// the shapes that cost the most per byte of text and the cheapest, and
// not far above it, so that the limit neither lets a value through that
// takes more nor refuses one that takes much less.
func TestJSONCostBounds(t *testing.T) {
	shapes := map[string]func(i int) string{
		"tiny objects":  func(i int) string { return `{"a":1}` },
		"empty objects": func(i int) string { return `{}` },
		"empty lists":   func(i int) string { return `[]` },
		"small ints":    func(i int) string { return "7" },
		"big ints":      func(i int) string { return fmt.Sprint(1_000_000 + i) },
		"floats":        func(i int) string { return "1.5" },
		"short strings": func(i int) string { return `"x"` },
		"long strings":  func(i int) string { return `"` + strings.Repeat("y", 1000) + `"` },
		"records":       func(i int) string { return fmt.Sprintf(`{"id":%d,"name":"n-%d","tags":["a","b"],"ok":true}`, i, i) },
		"wide objects": func(i int) string {
			return fmt.Sprintf(`{"a%d":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10}`, i)
		},
		"nested lists": func(i int) string { return `[[1,2],[3]]` },
	}
	for name, item := range shapes {
		t.Run(name, func(t *testing.T) {
			parts := make([]string, 20000)
			for i := range parts {
				parts[i] = item(i)
			}
			text := "[" + strings.Join(parts, ",") + "]"
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			v, err := DecodeJSONLimit(text, 0)
			if err != nil {
				t.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			runtime.KeepAlive(v)
			kept := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			cost := JSONCost(text, 0)
			t.Logf("%s: %d bytes of text; cost %d, kept %d: %.1f bytes a byte of text, cost/kept %.2f", name, len(text), cost, kept, float64(kept)/float64(len(text)), float64(cost)/float64(kept))
			if cost < kept || cost > 3*kept {
				t.Errorf("JSONCost %d for a value of %d bytes; want between 1 and 3 times", cost, kept)
			}
		})
	}
}

// TestJSONDepth: JSON nested deeper than MaxJSONDepth is refused before
// it is decoded, by the bounded decoder and by CheckJSON; at the limit,
// and with brackets inside strings, it is read.
func TestJSONDepth(t *testing.T) {
	nest := func(d int, open, close, inner string) string {
		return strings.Repeat(open, d) + inner + strings.Repeat(close, d)
	}
	for _, tt := range []struct {
		name string
		text string
		deep bool
	}{
		{"lists at the limit", nest(MaxJSONDepth, "[", "]", ""), false},
		{"lists past it", nest(MaxJSONDepth+1, "[", "]", ""), true},
		{"objects past it", nest(MaxJSONDepth+1, `{"a":`, "}", "1"), true},
		{"mixed past it", nest(MaxJSONDepth/2+1, `[{"a":`, "}]", "1"), true},
		{"brackets in a string", `["` + strings.Repeat("[{", 2*MaxJSONDepth) + `"]`, false},
		{"deep at 10,000", nest(10000, "[", "]", ""), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var de *DepthError
			_, err := DecodeJSONLimit(tt.text, 0)
			if errors.As(err, &de) != tt.deep {
				t.Errorf("DecodeJSONLimit: %v; want a depth error %v", err, tt.deep)
			}
			err = CheckJSON(tt.text, 0)
			if errors.As(err, &de) != tt.deep || !tt.deep && err != nil {
				t.Errorf("CheckJSON: %v; want a depth error %v", err, tt.deep)
			}
		})
	}
	if err := CheckJSON(`[`+strings.Repeat(`{"a":1},`, 1000)+`1]`, 1000); !errors.As(err, new(*MemoryLimitError)) {
		t.Errorf("CheckJSON over the memory limit: %v; want a *MemoryLimitError", err)
	}
}

// TestJSONCostPerByte holds JSONCost to its bound per byte, which lets
// CheckJSON pass short texts unscanned: over every text of up to 5 bytes
// of JSON's structural bytes and random texts of them, valid or not.
func TestJSONCostPerByte(t *testing.T) {
	alphabet := []byte(`{}[]:,"a1 t\-.e`)
	check := func(text []byte) {
		if c := JSONCost(string(text), 0); c > int64(len(text))*maxCostPerByte {
			t.Fatalf("JSONCost(%q) = %d, over %d a byte", text, c, maxCostPerByte)
		}
	}
	var build func(prefix []byte)
	build = func(prefix []byte) {
		check(prefix)
		if len(prefix) == 5 {
			return
		}
		for _, c := range alphabet {
			build(append(prefix[:len(prefix):len(prefix)], c))
		}
	}
	build(nil)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		text := make([]byte, 1+rng.IntN(200))
		for i := range text {
			text[i] = alphabet[rng.IntN(len(alphabet))]
		}
		check(text)
	}
	for _, s := range []string{`{"":{"":{"":0}}}`, strings.Repeat("{", 500), strings.Repeat(`{"a":`, 100)} {
		check([]byte(s))
	}
}

// TestCheckJSONShort: only a text too short to pass either limit goes
// unscanned: one a byte longer than MaxJSONDepth may nest past it, and a
// short one may pass a small memory limit; both are scanned and refused.
func TestCheckJSONShort(t *testing.T) {
	if err := CheckJSON(strings.Repeat("[", MaxJSONDepth+1), 1<<30); !errors.As(err, new(*DepthError)) {
		t.Errorf("%d opening brackets: %v; want a *DepthError", MaxJSONDepth+1, err)
	}
	braces := strings.Repeat(`{"":0},`, 100) // 700 bytes, costing some 48 KB
	if err := CheckJSON("["+braces+"0]", 10<<10); !errors.As(err, new(*MemoryLimitError)) {
		t.Errorf("a short text over a small limit: %v; want a *MemoryLimitError", err)
	}
}
