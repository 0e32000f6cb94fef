package state

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestJournalNonFinitePaths: an output holding NaN or ±Inf is journaled
// with the strings JSON allows and, beside them, where the floats were;
// an output without one has no such field, and paths the Writer could
// not write as they are refuse the record.
func TestJournalNonFinitePaths(t *testing.T) {
	name := filepath.Join(t.TempDir(), "journal")
	w, err := OpenJournal(name)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	nan, inf := math.NaN(), math.Inf(1)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Step(&StepRecord{ID: "s", Status: "succeeded", Output: map[string]any{"x.y": nan, "s": "NaN", "l": []float64{1, -inf}}}))
	must(w.Item(&ItemRecord{Step: "b", Key: "k", Status: "succeeded", Output: []any{"+Inf", inf}}))
	must(w.Item(&ItemRecord{Step: "b", Key: "j", Status: "succeeded", OutputJSON: []byte(`{"[0]":"NaN"}`), NonFinite: [][]any{{"[0]"}}}))
	must(w.Item(&ItemRecord{Step: "b", Key: "plain", Status: "succeeded", Output: map[string]any{"s": "NaN"}}))
	for _, bad := range [][][]any{{{-1}}, {{0.5}}, {{true}}, {{uint(1)}}} {
		if err := w.Item(&ItemRecord{Step: "b", Key: "bad", Status: "succeeded", OutputJSON: []byte(`["NaN"]`), NonFinite: bad}); err == nil {
			t.Errorf("paths %v journaled", bad)
		}
	}
	must(w.Sync())
	b, err := os.ReadFile(name)
	must(err)
	for _, want := range []string{
		`"output":{"l":[1,"-Inf"],"s":"NaN","x.y":"NaN"},"nonfinite":[["l",1],["x.y"]]}`,
		`"output":["+Inf","+Inf"],"nonfinite":[[1]],`,
		`"output":{"[0]":"NaN"},"nonfinite":[["[0]"]],`,
		`"output":{"s":"NaN"},"duration_ms"`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the journal has no %s:\n%s", want, b)
		}
	}
	recs := readAll(t, name)
	var got [][][]any
	for _, r := range recs {
		got = append(got, r.NonFinite)
	}
	if want := [][][]any{{{"l", 1}, {"x.y"}}, {{1}}, {{"[0]"}}, nil}; !cmp.Equal(got, want) {
		t.Errorf("paths read back %v; want %v (indices as int)", got, want)
	}
}

// TestReplayNonFinite: a journal without "nonfinite" (written before
// flowrun kept it) replays as before; with it, a step's and an item's
// latest record carry their paths; a damaged one refuses the journal.
func TestReplayNonFinite(t *testing.T) {
	j := strings.Join([]string{
		`{"type":"step","id":"old","status":"succeeded","attempts":1,"output":{"r":"NaN"}}`,
		`{"type":"item","step":"fan","index":0,"key":"old","status":"succeeded","attempts":1,"output":["+Inf"],"duration_ms":1}`,
		`{"type":"step","id":"new","status":"succeeded","attempts":1,"output":{"r":"NaN","s":"NaN"},"nonfinite":[["r"]]}`,
		`{"type":"item","step":"fan","index":1,"key":"new","status":"succeeded","attempts":1,"output":["+Inf",{"a.b":"-Inf"}],"nonfinite":[[0],[1,"a.b"]],"duration_ms":1}`,
		`{"type":"item","step":"fan","index":2,"key":"again","status":"failed","attempts":1,"output":"NaN","nonfinite":[[]],"duration_ms":1}`,
		`{"type":"item","step":"fan","index":2,"key":"again","status":"succeeded","attempts":1,"output":"NaN","duration_ms":1}`,
	}, "\n") + "\n"
	rp, _, err := LoadReplay(strings.NewReader(j), "journal")
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][][]any{"old": nil, "new": {{"r"}}} {
		if sr, _ := rp.Step(id); !cmp.Equal(sr.NonFinite, want) {
			t.Errorf("step %s: paths %v; want %v", id, sr.NonFinite, want)
		}
	}
	for key, want := range map[string][][]any{"old": nil, "new": {{0}, {1, "a.b"}}, "again": nil} {
		if it, _ := rp.Block("fan").Item(key); !cmp.Equal(it.NonFinite, want) {
			t.Errorf("item %s: paths %v; want %v", key, it.NonFinite, want)
		}
	}

	for _, bad := range []string{
		`{"type":"step","id":"s","status":"succeeded","attempts":1,"output":["NaN"],"nonfinite":[[0.5]]}`,
		`{"type":"step","id":"s","status":"succeeded","attempts":1,"output":["NaN"],"nonfinite":[[-1]]}`,
		`{"type":"step","id":"s","status":"succeeded","attempts":1,"output":["NaN"],"nonfinite":[[true]]}`,
		`{"type":"step","id":"s","status":"succeeded","attempts":1,"output":["NaN"],"nonfinite":[0]}`,
		`{"type":"step","id":"s","status":"succeeded","attempts":1,"output":["NaN"],"nonfinite":"x"}`,
		`{"type":"step","id":"s","status":"failed","attempts":1,"nonfinite":[[0]]}`,
	} {
		_, _, err := LoadReplay(strings.NewReader(bad+"\n"+`{"type":"run","status":"failed"}`+"\n"), "journal")
		var je *JournalError
		if !errors.As(err, &je) || je.Line != 1 {
			t.Errorf("%s: %v; want a JournalError at line 1", bad, err)
		}
	}
	var rec Record
	if err := json.Unmarshal([]byte(`{"type":"step","id":"s","status":"succeeded","output":["NaN"],"nonfinite":[[0]]}`), &rec); err != nil || rec.check() != nil || rec.NonFinite[0][0] != 0 {
		t.Errorf("a good record: %v, %v, %#v", err, rec.check(), rec.NonFinite)
	}
}
