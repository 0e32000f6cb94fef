package steps

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// split cuts s into pieces at the given offsets.
func split(s string, at ...int) Text {
	var pieces [][]byte
	prev := 0
	for _, i := range at {
		pieces = append(pieces, []byte(s[prev:i]))
		prev = i
	}
	return NewText(append(pieces, []byte(s[prev:])))
}

// TestTextPieces: however a text is cut into pieces, it reads the same —
// its string, its lines, its JSON and the JSON's cost.
func TestTextPieces(t *testing.T) {
	for _, s := range []string{
		"a\nbb\r\n\nccc\r\n\n\r\n", "one", "", "\n\n", "x\r\ny",
		`{"k": ["a\"b\\", 12, -1.5e3, true, null, {}, {"z": []}], "n": 1234567890123456789}`,
		`[1, "two", {"three": 3}, [4]]`, `  7  `,
	} {
		wantLines := strings.Split(strings.TrimRight(s, "\r\n"), "\n")
		for i := range wantLines {
			wantLines[i] = strings.TrimSuffix(wantLines[i], "\r")
		}
		if strings.TrimRight(s, "\r\n") == "" {
			wantLines = nil
		}
		wantJSON, jsonErr := DecodeJSONLimit(s, 0)
		wantCost := JSONCost(s, 0)
		for i := 0; i <= len(s); i++ {
			for j := i; j <= len(s); j += 3 {
				txt := split(s, i, j)
				if txt.String() != s || txt.Len() != len(s) {
					t.Fatalf("%q cut at %d, %d: String %q", s, i, j, txt.String())
				}
				var lines []string
				txt.Lines(func(l string) bool { lines = append(lines, l); return true })
				if !slices.Equal(lines, wantLines) || txt.LineCount() != len(wantLines) {
					t.Fatalf("%q cut at %d, %d: lines %q (count %d); want %q", s, i, j, lines, txt.LineCount(), wantLines)
				}
				got, err := txt.DecodeJSON(0)
				if (err == nil) != (jsonErr == nil) || err == nil && !cmp.Equal(got, wantJSON) {
					t.Fatalf("%q cut at %d, %d: JSON %v, %v; want %v, %v", s, i, j, got, err, wantJSON, jsonErr)
				}
				sc := jsonScan{}
				for _, p := range txt.pieces {
					sc.write(p)
				}
				if c := sc.end(); c != wantCost {
					t.Fatalf("%q cut at %d, %d: cost %d; want %d", s, i, j, c, wantCost)
				}
			}
		}
	}
}
