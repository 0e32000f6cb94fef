package state

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReplay(t *testing.T) {
	j := strings.Join([]string{
		// First attempt: a block of 4, items 0 and 1 succeed, 2 fails, 3 never ran.
		`{"type":"step","id":"prep","status":"succeeded","attempts":1,"output":{"n":4}}`,
		`{"type":"block_start","step":"fan","total":4}`,
		`{"type":"item","step":"fan","index":0,"key":"a","status":"succeeded","attempts":1,"output":"A"}`,
		`{"type":"item","step":"fan","index":2,"key":"c","status":"failed","attempts":2,"output":"partial","error":"boom"}`,
		`{"type":"item","step":"fan","index":1,"key":"b","status":"succeeded","attempts":3,"duration_ms":12.5}`,
		`{"type":"step","id":"after","status":"failed","attempts":2,"error":"x"}`,
		`{"type":"run","status":"failed"}`,
		// Resume: c runs again and succeeds, d is cancelled, after succeeds.
		`{"type":"block_start","step":"fan","total":4}`,
		`{"type":"item","step":"fan","index":2,"key":"c","status":"succeeded","attempts":1,"output":"C"}`,
		`{"type":"item","step":"fan","index":3,"key":"d","status":"cancelled","attempts":0}`,
		`{"type":"step","id":"after","status":"succeeded","attempts":1,"output":"done"}`,
	}, "\n") + "\n"
	rp, off, err := LoadReplay(strings.NewReader(j), "journal")
	if err != nil {
		t.Fatal(err)
	}
	if off != int64(len(j)) || rp.Records != 11 {
		t.Errorf("offset %d, %d records; want %d, 11", off, rp.Records, len(j))
	}
	if rp.Ended {
		t.Error("Ended: the journal goes on after the first run record")
	}
	for _, tc := range []struct {
		id   string
		want StepResult
		ok   bool
	}{
		{"prep", StepResult{Status: "succeeded", Attempts: 1, Output: json.RawMessage(`{"n":4}`)}, true},
		{"after", StepResult{Status: "succeeded", Attempts: 3, Output: json.RawMessage(`"done"`)}, true},
		{"never", StepResult{}, false},
	} {
		got, ok := rp.Step(tc.id)
		if ok != tc.ok || !cmp.Equal(got, tc.want) {
			t.Errorf("Step(%q) = %+v, %v; want %+v, %v", tc.id, got, ok, tc.want, tc.ok)
		}
	}
	b := rp.Block("fan")
	if b == nil || rp.Block("other") != nil {
		t.Fatalf("Block(fan) = %v, Block(other) = %v", b, rp.Block("other"))
	}
	for _, tc := range []struct {
		key  string
		want ItemResult
		ok   bool
	}{
		{"a", ItemResult{Status: "succeeded", Attempts: 1, Output: json.RawMessage(`"A"`), Seq: 0}, true},
		{"b", ItemResult{Status: "succeeded", Attempts: 3, DurationMS: 12.5, Seq: 2}, true},
		// The latest record wins, attempts add up.
		{"c", ItemResult{Status: "succeeded", Attempts: 3, Output: json.RawMessage(`"C"`), Seq: 1}, true},
		{"d", ItemResult{Status: "cancelled", Seq: 3}, true},
		{"e", ItemResult{}, false},
	} {
		got, ok := b.Item(tc.key)
		if ok != tc.ok || !cmp.Equal(got, tc.want) {
			t.Errorf("Item(%q) = %+v, %v; want %+v, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
	if keys := slices.Collect(b.Keys()); !slices.Equal(keys, []string{"a", "c", "b", "d"}) || b.Len() != 4 {
		t.Errorf("Keys %v, Len %d", keys, b.Len())
	}
	if got, want := rp.Counts(), (Counts{OK: 3, Pending: 1}); got != want {
		t.Errorf("Counts %+v, want %+v", got, want)
	}
	if b.Total != 4 || b.Ended {
		t.Errorf("Total %d, Ended %v; want 4, false", b.Total, b.Ended)
	}
}

func TestReplayLatestOutputGone(t *testing.T) {
	// An item that had an output and then failed without one has none.
	j := `{"type":"item","step":"s","index":0,"key":"k","status":"succeeded","attempts":1,"output":1}
{"type":"item","step":"s","index":0,"key":"k","status":"failed","attempts":1}
`
	rp, _, err := LoadReplay(strings.NewReader(j), "journal")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := rp.Block("s").Item("k"); got.Output != nil || got.Status != "failed" || got.Attempts != 2 {
		t.Errorf("Item = %+v, want failed, 2 attempts, no output", got)
	}
}

// TestReplayWithheld: an output withheld from the journal is said so,
// and forgotten when a later record has one.
func TestReplayWithheld(t *testing.T) {
	j := `{"type":"item","step":"s","index":0,"key":"k","status":"succeeded","attempts":1,"output_withheld":true}
{"type":"item","step":"s","index":1,"key":"m","status":"succeeded","attempts":1,"output_withheld":true}
{"type":"item","step":"s","index":1,"key":"m","status":"succeeded","attempts":1,"output":2}
{"type":"step","id":"one","status":"succeeded","attempts":1,"output_withheld":true}
`
	rp, _, err := LoadReplay(strings.NewReader(j), "journal")
	if err != nil {
		t.Fatal(err)
	}
	if it, _ := rp.Block("s").Item("k"); !it.OutputWithheld {
		t.Errorf("k = %+v; want its output withheld", it)
	}
	if it, _ := rp.Block("s").Item("m"); it.OutputWithheld || string(it.Output) != "2" {
		t.Errorf("m = %+v; want the later record's output", it)
	}
	if sr, _ := rp.Step("one"); !sr.OutputWithheld {
		t.Errorf("one = %+v; want its output withheld", sr)
	}
}

func TestReplayCounts(t *testing.T) {
	for _, tc := range []struct {
		name string
		j    string
		want Counts
	}{
		{"nothing", "", Counts{}},
		{"block not started yet", `{"type":"block_start","step":"s","total":10}` + "\n", Counts{Pending: 10}},
		{"some done", `{"type":"block_start","step":"s","total":10}
{"type":"item","step":"s","index":0,"key":"0","status":"succeeded"}
{"type":"item","step":"s","index":1,"key":"1","status":"failed"}
{"type":"item","step":"s","index":2,"key":"2","status":"skipped"}
`, Counts{OK: 1, Failed: 1, Pending: 8}},
		{"unknown total", `{"type":"item","step":"s","index":0,"key":"0","status":"weird"}` + "\n", Counts{Pending: 1}},
		{"two blocks", `{"type":"block_start","step":"s","total":2}
{"type":"block_start","step":"t","total":3}
{"type":"item","step":"t","index":0,"key":"0","status":"succeeded"}
`, Counts{OK: 1, Pending: 4}},
	} {
		rp, _, err := LoadReplay(strings.NewReader(tc.j), "journal")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := rp.Counts(); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestReplayDamaged(t *testing.T) {
	_, _, err := LoadReplay(strings.NewReader(recA+"\nnope\n"+recC+"\n"), filepath.Join("runs", "x", "journal"))
	var je *JournalError
	if !errors.As(err, &je) || !strings.Contains(err.Error(), "journal:2: ") {
		t.Fatalf("err %v, want journal:2: ...", err)
	}
}

func TestReplayEnded(t *testing.T) {
	rp, _, err := LoadReplay(strings.NewReader(recA+"\n"+recC+"\n"), "journal")
	if err != nil {
		t.Fatal(err)
	}
	if !rp.Ended || rp.Status != "failed" || rp.Error != "boom" {
		t.Errorf("Ended %v, Status %q, Error %q", rp.Ended, rp.Status, rp.Error)
	}
}
