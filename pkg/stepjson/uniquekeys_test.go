package stepjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// FuzzUniqueKeys: uniqueKeys says what a decoder walking the objects
// finds, for every text it is given (valid JSON, ASCII without a
// backslash).
func FuzzUniqueKeys(f *testing.F) {
	// Past the frames and keys uniqueKeys keeps on the stack: 12 levels,
	// 20 keys, each with a key twice at the end or not.
	deep := strings.Repeat(`{"a":[`, 12) + `{"x":1,"y":2,"x":3}` + strings.Repeat(`]}`, 12)
	var wide strings.Builder
	wide.WriteString("{")
	for i := range 20 {
		fmt.Fprintf(&wide, `"k%d":%d,`, i, i)
	}
	for _, s := range []string{`{"a":1,"a":2}`, `[{"a":{"a":1}},{"a" : 2, "b":[{"b":1,"b":2}]}]`, `{"":1," ":2}`, `"a:"`, `["a" , {"b":"c:"}]`,
		deep, strings.Replace(deep, `"x":3`, `"z":3`, 1), wide.String() + `"k3":0}`, wide.String() + `"k20":0}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		text := []byte(doc)
		if !plain(text) || !json.Valid(text) {
			return
		}
		if got, want := uniqueKeys(text), decodedUnique(t, text); got != want {
			t.Fatalf("uniqueKeys(%s) = %v; a decoder finds %v", doc, got, want)
		}
	})
}

// decodedUnique walks text's tokens: no object has a key twice.
func decodedUnique(t *testing.T, text []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(text))
	var stack []map[string]bool // nil for a list
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, map[string]bool{})
			expectKey = true
			continue
		case json.Delim('['):
			stack = append(stack, nil)
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			if s, ok := tok.(string); ok && expectKey {
				top := stack[len(stack)-1]
				if top[s] {
					return false
				}
				top[s] = true
				expectKey = false
				continue
			}
		}
		// After a value, an object's next token is a key.
		expectKey = len(stack) > 0 && stack[len(stack)-1] != nil
	}
}

func TestUniqueKeysSeeds(t *testing.T) {
	for doc, want := range map[string]bool{
		`{"a":1,"a":2}`:                   false,
		`{"a":{"a":1},"b":[{"a":2}]}`:     true,
		`[{"x":"y:"},{"x":"z"}]`:          true,
		`{"a" : 1, "b" :{}, "a" : 2}`:     false,
		`{"k":{"k":{"k":{"k":1}}},"j":1}`: true,
	} {
		if got := uniqueKeys([]byte(doc)); got != want || decodedUnique(t, []byte(doc)) != want {
			t.Errorf("uniqueKeys(%s) = %v, decoder %v; want %v", doc, got, decodedUnique(t, []byte(doc)), want)
		}
	}
}

// BenchmarkUniqueKeys checks a small body, as most are: go test
// ./pkg/stepjson -run '^$' -bench UniqueKeys.
func BenchmarkUniqueKeys(b *testing.B) {
	text := []byte(`{"backend":"users","n":1,"result":1}`)
	for b.Loop() {
		if !uniqueKeys(text) {
			b.Fatal("a key twice")
		}
	}
}
