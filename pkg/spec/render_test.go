package spec

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestFormatShowsEachDiagnosticsLine(t *testing.T) {
	src := []byte("version: 1\r\nname: x\n\nsteps: []\nlast: no newline")
	ds := Diagnostics{
		{Summary: "fifth", Pos: Pos{"wf.yaml", 5, 7}},
		{Summary: "second", Pos: Pos{"wf.yaml", 2, 1}},
		{Summary: "first, CRLF", Pos: Pos{"wf.yaml", 1, 3}},
		{Summary: "empty line", Pos: Pos{"wf.yaml", 3, 1}},
		{Summary: "past the end", Pos: Pos{"wf.yaml", 6, 1}},
		{Summary: "no source", Pos: Pos{"other.yaml", 1, 1}},
	}
	var b bytes.Buffer
	ds.Format(&b, map[string][]byte{"wf.yaml": src})
	want := `wf.yaml:5:7: error: fifth
    5 | last: no newline
      |       ^
wf.yaml:2:1: error: second
    2 | name: x
      | ^
wf.yaml:1:3: error: first, CRLF
    1 | version: 1
      |   ^
wf.yaml:3:1: error: empty line
    3 | 
      | ^
wf.yaml:6:1: error: past the end
other.yaml:1:1: error: no source
`
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// BenchmarkFormatManyDiagnostics renders one diagnostic per line of a
// large file: linear, where looking each line up from the start of the
// file made 40,000 unknown keys take 5 s.
func BenchmarkFormatManyDiagnostics(b *testing.B) {
	var src strings.Builder
	var ds Diagnostics
	for i := range 50_000 {
		fmt.Fprintf(&src, "k%d: 1\n", i)
		ds = append(ds, &Diagnostic{Summary: "unknown key", Pos: Pos{"wf.yaml", i + 1, 1}})
	}
	sources := map[string][]byte{"wf.yaml": []byte(src.String())}
	for b.Loop() {
		ds.Format(&bytes.Buffer{}, sources)
	}
}
