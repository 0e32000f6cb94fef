package durable

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/state"
)

// nonFiniteOutputs: a single step and a block's items whose outputs hold
// NaN, +Inf and -Inf in maps and lists, beside strings that read "NaN",
// "+Inf" and "-Inf", and under keys that look like paths.
const nonFiniteOutputs = `
version: 1
inputs:
  zero: {type: number, default: 0}
steps:
  - id: single
    work:
      out:
        body: {x: "${{ inputs.zero / inputs.zero }}", s: "NaN", "a.b": "${{ 1 / inputs.zero }}", "[0]": "${{ -1 / inputs.zero }}"}
        list: [1, "+Inf", "${{ -1 / inputs.zero }}", ["${{ inputs.zero / inputs.zero }}"]]
        top: "-Inf"
  - id: whole
    work: {out: "${{ 1 / inputs.zero }}"}
  - id: fan
    needs: [single]
    parallel: {items: [a, b, c], key: "${{ item }}", results: all, on_error: continue}
    work: {out: {k: "${{ item }}", r: "${{ inputs.zero / inputs.zero }}", s: "NaN", l: ["${{ 1 / inputs.zero }}", "-Inf"]}}
  - id: after
    needs: [fan, whole]
    work:
      out: "${{ steps.single.output.body.x != steps.single.output.body.x && steps.single.output.list[2] < 0 && steps.whole.output > 0 && steps.fan.outputs[0].l[0] > 0 && steps.fan.results[1].output.r != steps.fan.results[1].output.r }}"
`

func wantSingle() any {
	nan, inf := math.NaN(), math.Inf(1)
	return map[string]any{
		"body": map[string]any{"x": nan, "s": "NaN", "a.b": inf, "[0]": -inf},
		"list": []any{1, "+Inf", -inf, []any{nan}},
		"top":  "-Inf",
	}
}

func wantItem(k string) any {
	return map[string]any{"k": k, "r": math.NaN(), "s": "NaN", "l": []any{math.Inf(1), "-Inf"}}
}

// TestResumeRestoresNonFiniteOutputs: outputs holding NaN and ±Inf are
// journaled with the strings JSON allows, and a resume gives them back as
// the floats they were, where they were floats, and as strings where
// they were strings: a later step's comparisons read the same values as
// they would have without the resume.
func TestResumeRestoresNonFiniteOutputs(t *testing.T) {
	for _, compact := range []bool{false, true} {
		t.Run(fmt.Sprintf("compact=%v", compact), func(t *testing.T) { resumeRestoresNonFinite(t, compact) })
	}
}

func resumeRestoresNonFinite(t *testing.T, compact bool) {
	f := newFixture(t, map[string]string{"main.yaml": nonFiniteOutputs})
	f.compact = compact
	resetLedger("c")
	rep, id := f.start(nil)
	if rep.Status != exec.Failed {
		t.Fatalf("first run %s; want failed (c fails)", rep.Status)
	}
	// The journal keeps the strings, as before, and where the floats were.
	journal, err := os.ReadFile(filepath.Join(f.sd.RunDir(id), state.JournalFile))
	must(t, err)
	for _, want := range []string{
		`"output":{"body":{"[0]":"-Inf","a.b":"+Inf","s":"NaN","x":"NaN"},"list":[1,"+Inf","-Inf",["NaN"]],"top":"-Inf"},"nonfinite":[["body","[0]"],["body","a.b"],["body","x"],["list",2],["list",3,0]]`,
		`"output":"+Inf","nonfinite":[[]]`,
		`"output":{"k":"a","l":["+Inf","-Inf"],"r":"NaN","s":"NaN"},"nonfinite":[["l",0],["r"]]`,
	} {
		if !strings.Contains(string(journal), want) {
			t.Errorf("the journal has no %s:\n%s", want, journal)
		}
	}

	resetLedger()
	rep, err = f.resume(id, nil)
	must(t, err)
	if got := ran(); !slices.Equal(got, []string{"after", "c"}) {
		t.Errorf("resume ran %v; want after and c", got)
	}
	if rep.Status != exec.Succeeded {
		t.Fatalf("resume: %s %s", rep.Status, rep.Error)
	}
	nan := cmpopts.EquateNaNs()
	if s := rep.Step("single"); s.Restored != 1 || !cmp.Equal(s.Output, wantSingle(), nan) {
		t.Errorf("single restored %d: %s", s.Restored, cmp.Diff(wantSingle(), s.Output, nan))
	}
	if s := rep.Step("whole"); s.Restored != 1 || s.Output != math.Inf(1) {
		t.Errorf("whole restored %d: %#v; want +Inf", s.Restored, s.Output)
	}
	for _, r := range rep.Step("fan").Results {
		if diff := cmp.Diff(wantItem(r.Key), r.Output, nan); diff != "" {
			t.Errorf("fan item %s (restored %v) (-want +got):\n%s", r.Key, r.Restored, diff)
		}
	}
	if a := rep.Step("after"); a.Output != true {
		t.Errorf("after: %#v; want true (the restored values compare as the floats they are)", a.Output)
	}

	// What the resume journaled (c) reads back the same way.
	it, ok := replay(t, f, id).Block("fan").Item("c")
	if !ok {
		t.Fatal("item c is not in the journal")
	}
	got, err := decodeOutput(it.Output, it.NonFinite)
	must(t, err)
	if diff := cmp.Diff(wantItem("c"), got, nan); diff != "" {
		t.Errorf("item c as journaled by the resume (-want +got):\n%s", diff)
	}
}

// replay reads run id's journal.
func replay(t *testing.T, f *fixture, id string) *state.Replay {
	t.Helper()
	jf, err := os.Open(filepath.Join(f.sd.RunDir(id), state.JournalFile))
	must(t, err)
	defer jf.Close()
	rp, _, err := state.LoadReplay(jf, id)
	must(t, err)
	return rp
}

// TestResumeOldNonFiniteRecords: a journal written before flowrun kept
// where non-finite floats were (no "nonfinite") still resumes: its
// strings stay strings, as that flowrun restored them.
func TestResumeOldNonFiniteRecords(t *testing.T) {
	f := newFixture(t, map[string]string{"main.yaml": nonFiniteOutputs})
	resetLedger("c")
	_, id := f.start(nil)
	name := filepath.Join(f.sd.RunDir(id), state.JournalFile)
	b, err := os.ReadFile(name)
	must(t, err)
	var old []string
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if i := strings.Index(line, `,"nonfinite":`); i >= 0 {
			j := i + strings.Index(line[i:], `]]`) + 2
			line = line[:i] + line[j:]
		}
		old = append(old, line)
	}
	must(t, os.WriteFile(name, []byte(strings.Join(old, "")), 0o600))
	if strings.Contains(strings.Join(old, ""), "nonfinite") {
		t.Fatalf("the old journal still has nonfinite:\n%s", old)
	}
	resetLedger()
	rep, err := f.resume(id, nil)
	must(t, err)
	if got := ran(); !slices.Equal(got, []string{"after", "c"}) {
		t.Errorf("resume ran %v; want after and c", got)
	}
	if s := rep.Step("whole"); s.Restored != 1 || s.Output != "+Inf" {
		t.Errorf("whole: %#v; want the string +Inf an old journal holds", s.Output)
	}
	if x := rep.Step("single").Output.(map[string]any)["body"].(map[string]any)["x"]; x != "NaN" {
		t.Errorf("single body.x: %#v; want the string NaN", x)
	}
}

// TestNonFiniteSecretOutputWithheld: an output that holds a secret's
// value beside a NaN is withheld like any other: the NaN, which
// encoding/json refuses, does not let the secret past the check.
func TestNonFiniteSecretOutputWithheld(t *testing.T) {
	f := newFixture(t, map[string]string{"main.yaml": `
version: 1
inputs:
  token: {type: string, secret: true, default: "hunter2-token"}
  zero: {type: number, default: 0}
steps:
  - id: leak
    work: {out: {t: "${{ inputs.token }}", r: "${{ inputs.zero / inputs.zero }}"}}
  - id: fan
    parallel: {items: [a], results: all}
    work: {out: {t: "${{ inputs.token }}", r: "${{ 1 / inputs.zero }}"}}
  - id: last
    needs: [leak, fan]
    work: {}
`})
	resetLedger("last")
	wf := f.load()
	inputs, err := wf.ResolveInputs(nil)
	must(t, err)
	run, err := NewRun(wf, inputs, f.key)
	must(t, err)
	j, err := Create(f.sd, run, mask.New("hunter2-token"), nil)
	must(t, err)
	rep := exec.Run(context.Background(), wf, exec.Options{Inputs: inputs, RunID: j.ID(), Recorder: j})
	must(t, j.Close())
	if rep.Status != exec.Failed {
		t.Fatalf("first run %s", rep.Status)
	}
	b, err := os.ReadFile(filepath.Join(f.sd.RunDir(j.ID()), state.JournalFile))
	must(t, err)
	if strings.Contains(string(b), "hunter2") {
		t.Errorf("the journal holds the secret:\n%s", b)
	}
	if n := strings.Count(string(b), `"output_withheld":true`); n != 2 {
		t.Errorf("%d outputs withheld; want 2:\n%s", n, b)
	}
}
