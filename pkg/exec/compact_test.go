package exec

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/internal/jsonenc"
	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/stepjson"
	"github.com/flowrun/flowrun/pkg/steps"
)

// compactSrc is a block whose outputs nothing reads (a later step reads
// its summary only), holding what JSON is easy to get wrong: an integer
// beyond 2^53, a float, text beyond ASCII, a URL with a password, nested
// lists and maps with keys out of order.
const compactSrc = `
version: 1
steps:
  - id: fan
    parallel: {items: [0, 1, 2]}
    probe:
      out:
        z: ${{ item }}
        big: 9007199254740993
        f: 2.5
        text: "é ${{ item }}"
        url: https://user:pw@example.test/x?token=abc
        list: [1, {b: 2, a: [true, null]}]
  - id: after
    needs: [fan]
    probe: {out: "${{ steps.fan.summary.total }}"}
`

// reportResults returns the results of step id as the JSON report writes
// them, decoded, without their timings.
func reportResults(t *testing.T, rep *Report, m *mask.Masker, id string) []any {
	t.Helper()
	for _, s := range writtenSteps(t, rep, m) {
		if s.ID != id {
			continue
		}
		var out []any
		for _, line := range s.Results {
			var r map[string]any
			dec := json.NewDecoder(bytes.NewReader(line))
			dec.UseNumber()
			if err := dec.Decode(&r); err != nil {
				t.Fatal(err)
			}
			delete(r, "offset_ms")
			delete(r, "duration_ms")
			delete(r, "lane")
			out = append(out, r)
		}
		return out
	}
	t.Fatalf("no step %q in the report", id)
	return nil
}

// writtenStep is a step of the JSON report as written: its results as
// their JSON.
type writtenStep struct {
	ID      string            `json:"id"`
	Results []json.RawMessage `json:"results"`
}

// writtenSteps writes rep as the JSON report, masked by m, and returns its
// steps.
func writtenSteps(t *testing.T, rep *Report, m *mask.Masker) []writtenStep {
	t.Helper()
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf, m); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Steps []writtenStep `json:"steps"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Steps
}

// TestCompactResultsWriteTheSameReport: with CompactResults, the outputs
// of a block nothing reads are kept as their JSON, and the report — masked
// or not — says exactly what it says without.
func TestCompactResultsWriteTheSameReport(t *testing.T) {
	plain := runYAML(t, compactSrc, Options{})
	compact := runYAML(t, compactSrc, Options{CompactResults: true})
	if plain.Status != Succeeded || compact.Status != Succeeded {
		t.Fatalf("runs: %s %s / %s %s", plain.Status, plain.Error, compact.Status, compact.Error)
	}
	for i, r := range compact.Step("fan").Results {
		if _, ok := r.Output.(json.RawMessage); !ok {
			t.Errorf("result %d: output %T; want it kept as its JSON", i, r.Output)
		}
		if _, ok := plain.Step("fan").Results[i].Output.(map[string]any); !ok {
			t.Errorf("result %d without CompactResults: output %T; want the value", i, plain.Step("fan").Results[i].Output)
		}
	}
	m := mask.New()
	for _, masker := range []*mask.Masker{nil, m} {
		want := reportResults(t, plain, masker, "fan")
		got := reportResults(t, compact, masker, "fan")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("report (mask %v) differs with CompactResults (-without +with):\n%s", masker != nil, diff)
		}
		// Masked() then WriteJSON(nil), as flowrun apply writes it.
		want = reportResults(t, plain.Masked(m), nil, "fan")
		got = reportResults(t, compact.Masked(m), nil, "fan")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("masked report differs with CompactResults (-without +with):\n%s", diff)
		}
	}
	if s := reportResults(t, compact.Masked(m), nil, "fan"); strings.Contains(jsonText(t, s), "pw@") {
		t.Errorf("the password of a URL in a compacted output reached the report: %s", jsonText(t, s))
	}
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCompactResultsKeepWhatIsRead: outputs an expression reads stay
// values, and the expression reads them right.
func TestCompactResultsKeepWhatIsRead(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: [1, 2, 3]}
    probe: {out: {n: "${{ item * 10 }}"}}
  - id: sum
    probe: {out: "${{ sum(map(steps.fan.outputs, #.n)) }}"}
`, Options{CompactResults: true})
	if rep.Status != Succeeded {
		t.Fatalf("%s: %s", rep.Status, rep.Error)
	}
	for i, r := range rep.Step("fan").Results {
		if _, ok := r.Output.(map[string]any); !ok {
			t.Errorf("result %d: output %T; a later step reads it, so it must stay a value", i, r.Output)
		}
	}
	if got := rep.Step("sum").Output; got != 60 {
		t.Errorf("sum = %v; want 60", got)
	}
}

// reportForms runs wf, whose secret input token is secret, with
// CompactResults, and returns its report in every form flowrun writes it:
// report.json of the masked report (as -o json and --report write it too)
// and masked as it is written, and encoding/json over the masked report.
func reportForms(t *testing.T, wf *spec.Workflow, secret string) *bytes.Buffer {
	t.Helper()
	m := mask.New()
	resetProbes()
	rep := Run(t.Context(), wf, Options{Inputs: map[string]any{"token": secret}, Mask: m, CompactResults: true})
	if rep.Status != Succeeded {
		t.Fatalf("%s: %s", rep.Status, rep.Error)
	}
	var buf bytes.Buffer
	if err := rep.Masked(m).WriteJSON(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&buf, m); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(rep.Masked(m))
	if err != nil {
		t.Fatal(err)
	}
	buf.Write(b)
	return &buf
}

// TestCompactResultsMaskSecrets: a secret in an output that is kept as
// JSON is masked wherever the report goes.
func TestCompactResultsMaskSecrets(t *testing.T) {
	const secret = "hunter2-very-secret"
	wf := load(t, `
version: 1
inputs:
  token: {type: string, secret: true}
steps:
  - id: fan
    parallel: {items: [1, 2]}
    probe: {out: {token: "${{ inputs.token }}", n: "${{ item }}"}}
`)
	buf := reportForms(t, wf, secret)
	if strings.Contains(buf.String(), secret) {
		t.Errorf("the secret reached the report: %s", buf.String())
	}
	if !strings.Contains(buf.String(), `"token":"`+mask.Replacement+`"`) {
		t.Errorf("the masked token is missing: %s", buf.String())
	}
}

// TestCompactResultsLeaveNonFinite: an output holding NaN is not
// compacted, so that the warnings that name where it is still see it.
func TestCompactResultsLeaveNonFinite(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: [1]}
    probe: {out: {x: .nan}}
`, Options{CompactResults: true})
	out, ok := rep.Step("fan").Results[0].Output.(map[string]any)
	if !ok {
		t.Fatalf("output %T; want the value", rep.Step("fan").Results[0].Output)
	}
	if f, _ := out["x"].(float64); !math.IsNaN(f) {
		t.Errorf("x = %v; want NaN", out["x"])
	}
}

// TestEncodedOutputOnce: the JSON the journal asks for is kept for the
// report, which writes those bytes; a masked copy drops them.
func TestEncodedOutputOnce(t *testing.T) {
	res := &ItemResult{Index: 0, Key: "0", Status: Succeeded, Output: map[string]any{"b": 1, "a": "s3cret-value"}}
	b1, err := res.EncodedOutput()
	if err != nil || string(b1) != `{"a":"s3cret-value","b":1}` {
		t.Fatalf("EncodedOutput = %s, %v", b1, err)
	}
	b2, _ := res.EncodedOutput()
	if &b1[0] != &b2[0] {
		t.Error("the output was encoded twice")
	}
	line, err := appendResult(nil, res)
	if err != nil || !bytes.Contains(line, []byte(`"output":{"a":"s3cret-value","b":1}`)) {
		t.Errorf("report line %s, %v", line, err)
	}
	m := mask.New("s3cret-value")
	cp := maskedResult(m, res)
	if cp == res || cp.outJSON != nil {
		t.Fatalf("a masked copy kept the unmasked JSON: %+v", cp)
	}
	line, _ = appendResult(nil, cp)
	if !bytes.Contains(line, []byte(`"a":"`+mask.Replacement+`"`)) {
		t.Errorf("masked report line %s", line)
	}
	// Not kept: typed values, and large ones.
	for _, out := range []any{[]string{"typed"}, strings.Repeat("x", maxKeptJSON)} {
		res := &ItemResult{Status: Succeeded, Output: out}
		if _, err := res.EncodedOutput(); err != nil || res.outJSON != nil {
			t.Errorf("%T output: kept %d bytes, %v; want none kept", out, len(res.outJSON), err)
		}
	}
}

// TestCompactResultsMaskControlSecrets: a secret holding a backspace or
// a form feed is masked in a compacted output as in any other: the JSON
// the output is kept as writes them as encoding/json does (\b, \f), the
// form the masker looks for, in the report, -o json and results files.
func TestCompactResultsMaskControlSecrets(t *testing.T) {
	for _, secret := range []string{"hunter2\fsecret", "hunter2\bsecret"} {
		dir := t.TempDir()
		wf := load(t, `
version: 1
inputs:
  token: {type: string, secret: true}
steps:
  - id: fan
    parallel: {items: [1, 2], results_file: `+dir+`/out.jsonl}
    probe: {out: {token: "${{ inputs.token }}", n: "${{ item }}"}}
`)
		buf := reportForms(t, wf, secret)
		file, err := os.ReadFile(dir + "/out.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(file)
		for _, form := range []string{secret, `hunter2\fsecret`, `hunter2\bsecret`, `hunter2\u000csecret`, `hunter2\u0008secret`} {
			if strings.Contains(buf.String(), form) {
				t.Errorf("secret %q reached the report or results file as %q: %s", secret, form, buf.String())
			}
		}
	}
}

// TestCompactResultsMaskedShareLinks: outputs kept as JSON that hold URLs
// without credentials (links to the resources a load test fetched) have
// nothing to mask: the masked report shares their results rather than
// decoding each into a copy, which would hold every output decoded at the
// end of the run — more than the run held without compaction.
func TestCompactResultsMaskedShareLinks(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: fan
    parallel: {items: [1, 2, 3]}
    probe: {out: {self: "https://api.example.test/items/${{ item }}", n: "${{ item }}"}}
`, Options{CompactResults: true})
	if rep.Status != Succeeded {
		t.Fatalf("%s: %s", rep.Status, rep.Error)
	}
	for _, m := range []*mask.Masker{mask.New(), mask.New("hunter2-very-secret")} {
		shown := rep.Masked(m)
		for i, r := range shown.Step("fan").Results {
			if r != rep.Step("fan").Results[i] {
				t.Errorf("result %d was copied by masking (output %T); nothing in it is masked", i, r.Output)
			}
		}
	}
}

// encodingRecorder asks for every item's JSON, as the journal does.
type encodingRecorder struct{}

func (encodingRecorder) ItemDone(_ *spec.Step, res *ItemResult) error {
	_, err := res.EncodedOutput()
	return err
}
func (encodingRecorder) StepDone(*spec.Step, *StepReport) error { return nil }
func (encodingRecorder) RunDone(*Report) error                  { return nil }

// TestEncodedOutputNotKeptTwice: the JSON the journal asked for is kept
// as the output of a block nothing reads, and dropped from one whose
// values expressions read, so that no result holds both.
func TestEncodedOutputNotKeptTwice(t *testing.T) {
	rep := runYAML(t, `
version: 1
steps:
  - id: read
    parallel: {items: [1, 2]}
    probe: {out: {n: "${{ item }}"}}
  - id: unread
    parallel: {items: [1, 2]}
    probe: {out: {n: "${{ item }}"}}
  - id: sum
    probe: {out: "${{ steps.read.outputs[0].n }}"}
`, Options{CompactResults: true, Recorder: encodingRecorder{}})
	if rep.Status != Succeeded {
		t.Fatalf("%s: %s", rep.Status, rep.Error)
	}
	for _, r := range rep.Step("read").Results {
		if r.outJSON != nil {
			t.Errorf("read item %d keeps its value and its JSON", r.Index)
		}
	}
	for _, r := range rep.Step("unread").Results {
		raw, ok := r.Output.(json.RawMessage)
		if !ok || &raw[0] != &r.outJSON[0] {
			t.Errorf("unread item %d: output %T; want its JSON, shared with the kept bytes", r.Index, r.Output)
		}
	}
}

// TestOutputDiscarded: with CompactResults, the items of a block that
// keeps only its failures, and writes no results file, are told that
// their outputs are dropped; every other block's items are not, nor any
// block's without CompactResults.
func TestOutputDiscarded(t *testing.T) {
	src := `
version: 1
steps:
  - id: failures
    parallel: {items: [1, 2], results: failures}
    probe: {out: "${{ item }}"}
  - id: filed
    parallel: {items: [1, 2], results: failures, results_file: ` + t.TempDir() + `/out.jsonl}
    probe: {out: "${{ item }}"}
  - id: all
    parallel: {items: [1, 2]}
    probe: {out: "${{ item }}"}
  - id: read
    parallel: {items: [1, 2]}
    probe: {out: "${{ item }}"}
  - id: single
    probe: {out: "${{ steps.read.outputs[0] }}"}
`
	for _, compact := range []bool{false, true} {
		rep := runYAML(t, src, Options{CompactResults: compact})
		if rep.Status != Succeeded {
			t.Fatalf("%s: %s", rep.Status, rep.Error)
		}
		want := map[string]told{"failures": {}, "filed": {}, "all": {}, "read": {}, "single": {}}
		if compact {
			want["failures"] = told{unread: true, discarded: true}
			want["filed"] = told{unread: true}
			want["all"] = told{unread: true}
		}
		probes.mu.Lock()
		got := probes.told
		probes.mu.Unlock()
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(told{})); diff != "" {
			t.Errorf("CompactResults %v: what items were told (-want +got):\n%s", compact, diff)
		}
		if s := rep.Step("failures").Summary; s == nil || s.Succeeded != 2 {
			t.Errorf("CompactResults %v: failures block summary %+v; want 2 succeeded", compact, s)
		}
	}
}

// TestCompactHTTPOutputsWriteTheSameReport: an http block whose outputs
// nothing reads gets the outputs of plain JSON bodies written as JSON by
// the step itself (a stepjson.Output), kept as they are; the report, masked
// or not, and a results file, say byte for byte what they say when the
// outputs are values (but for durations), for every kind of body and
// header: a secret, a URL's password, a large body whose keys are out of
// order beside a header that masking changes.
func TestCompactHTTPOutputsWriteTheSameReport(t *testing.T) {
	const secret = "s3cr3t-token-value"
	big := `{"zz":"` + strings.Repeat("x", 5000) + `","b":1,"a":2}`
	bodies := map[string]struct{ ctype, body string }{
		"compact":  {"application/json", `{"b":1,"a":[2,{"z":null}],"n":9007199254740993}`},
		"newline":  {"application/json", "{\"a\": 1, \"f\": 2.5}\n"}, // (kept as text, a number is as written: 2.50 would stay)
		"empty":    {"application/json", ""},
		"escape":   {"application/json", `{"u":"\u00e9"}`},
		"beyond":   {"application/json", `{"n":"é"}`},
		"twice":    {"application/json", `{"a":1,"a":2}`},
		"secret":   {"application/json", `{"token":"` + secret + `"}`},
		"url":      {"application/json", `{"self":"https://user:pw@example.test/x"}`},
		"text":     {"text/plain", "hello\n"},
		"header":   {"application/json", `{"zz":1,"ok":true}`},
		"headerpw": {"application/json", `{"zz":1,"ok":true}`},
		"big":      {"application/json", big},
		"bigplain": {"application/json", big},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := bodies[strings.TrimPrefix(r.URL.Path, "/")]
		w.Header()["Date"] = nil // the same in both runs
		w.Header().Set("Content-Type", b.ctype)
		switch r.URL.Path {
		case "/header":
			w.Header().Set("X-Note", `é "quoted" \ `+secret)
		case "/headerpw", "/big":
			w.Header().Set("Location", "https://user:pw@example.test/next")
			w.Header().Set("Link", "<https://cdn.example.test/o?X-Amz-Signature=abcdef>; rel=next")
		}
		_, _ = io.WriteString(w, b.body)
	}))
	defer srv.Close()
	var items []string
	for k := range bodies {
		items = append(items, k)
	}
	slices.Sort(items)
	dir := t.TempDir()
	wf := loadHTTP(t, `
version: 1
inputs:
  token: {type: string, secret: true}
  file: {type: string}
steps:
  - id: fan
    parallel: {items: `+jsonText(t, items)+`}
    http: `+srv.URL+`/${{ item }}
  - id: filed
    parallel: {items: `+jsonText(t, items)+`, results: failures, results_file: "${{ inputs.file }}"}
    http: `+srv.URL+`/${{ item }}
  - id: after
    needs: [fan, filed]
    log: "${{ steps.fan.summary.total }}"
`)
	run := func(compact bool, rec Recorder) (*Report, *mask.Masker, string) {
		m := mask.New()
		file := filepath.Join(dir, fmt.Sprintf("filed-%v.jsonl", compact))
		rep := Run(t.Context(), wf, Options{Inputs: map[string]any{"token": secret, "file": file}, Mask: m, CompactResults: compact, Recorder: rec})
		if rep.Status != Succeeded {
			t.Fatalf("%s: %s", rep.Status, rep.Error)
		}
		return rep, m, file
	}
	plain, pm, _ := run(false, nil)
	rec := &rawRecorder{raw: map[string]map[int]bool{}}
	compact, cm, compactFile := run(true, rec)
	// Plain JSON bodies, and none: the others are decoded, or text.
	want := map[string]bool{"compact": true, "newline": true, "empty": true, "secret": true, "url": true, "header": true, "headerpw": true, "big": true, "bigplain": true}
	for _, id := range []string{"fan", "filed"} {
		got := map[string]bool{}
		for i := range rec.raw[id] {
			got[items[i]] = true
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: outputs written as JSON by the step (-want +got):\n%s", id, diff)
		}
	}
	// The values are those of outputs that are maps.
	for _, masked := range []bool{false, true} {
		var want, got []any
		if masked {
			want, got = reportResults(t, plain.Masked(pm), nil, "fan"), reportResults(t, compact.Masked(cm), nil, "fan")
		} else {
			want, got = reportResults(t, plain, nil, "fan"), reportResults(t, compact, nil, "fan")
		}
		for _, results := range [][]any{want, got} {
			for _, r := range results {
				if out, ok := r.(map[string]any)["output"].(map[string]any); ok {
					delete(out, "duration_ms")
				}
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("report (masked %v) differs with the step's own JSON (-values +JSON):\n%s", masked, diff)
		}
	}
	// The bytes are those of the map the step wrote as JSON — its body
	// kept as its text — masked and written: a member that masking
	// leaves alone keeps its text.
	masked := compact.Masked(cm)
	gotOut := reportOutputs(t, masked)
	var wantOut []string
	for _, r := range compact.Step("fan").Results {
		m := outputMap(t, r.Output.(json.RawMessage))
		b, _, err := jsonenc.Output(nil, cm.Value(m))
		if err != nil {
			t.Fatal(err)
		}
		wantOut = append(wantOut, fmt.Sprintf("fan %d %s", r.Index, noDuration.ReplaceAll(b, nil)))
	}
	if len(gotOut) < len(wantOut) {
		t.Fatalf("the report has %d outputs; want at least %d", len(gotOut), len(wantOut))
	}
	if diff := cmp.Diff(wantOut, gotOut[:len(wantOut)]); diff != "" {
		t.Errorf("masked report outputs (-the map's +written):\n%s", diff)
	}
	if text := strings.Join(gotOut, "\n"); strings.Contains(text, secret) || strings.Contains(text, "pw@") || strings.Contains(text, "abcdef") {
		t.Errorf("a secret or a password reached the masked report: %s", text)
	}
	// A results file writes each output as the report does.
	lines, err := os.ReadFile(compactFile)
	if err != nil {
		t.Fatal(err)
	}
	var fileOut []string
	for line := range strings.Lines(string(lines)) {
		var r struct {
			Index  int             `json:"index"`
			Output json.RawMessage `json:"output"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		// (A results file escapes <, > and & as encoding/json does.)
		text := htmlEscapes.Replace(string(noDuration.ReplaceAll(r.Output, nil)))
		fileOut = append(fileOut, fmt.Sprintf("fan %d %s", r.Index, text))
	}
	slices.Sort(fileOut)
	slices.Sort(wantOut)
	if diff := cmp.Diff(wantOut, fileOut); diff != "" {
		t.Errorf("results file outputs (-report +file):\n%s", diff)
	}
}

// outputMap is the map an http output written as JSON stands for: its
// body as its text (null: none).
func outputMap(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var parts struct {
		Status     int             `json:"status"`
		Headers    map[string]any  `json:"headers"`
		Body       json.RawMessage `json:"body"`
		DurationMS float64         `json:"duration_ms"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		t.Fatal(err)
	}
	m := map[string]any{"status": parts.Status, "headers": parts.Headers, "body": parts.Body, "duration_ms": parts.DurationMS}
	if string(parts.Body) == "null" {
		m["body"] = nil
	}
	return m
}

var htmlEscapes = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")

// noDuration matches an output's duration_ms, which differs between runs.
var noDuration = regexp.MustCompile(`"duration_ms":[-+.0-9eE]+,?`)

// reportOutputs returns the outputs of every step's results as the JSON
// report writes them, byte for byte but for their durations.
func reportOutputs(t *testing.T, rep *Report) []string {
	t.Helper()
	var out []string
	for _, s := range writtenSteps(t, rep, nil) {
		for _, line := range s.Results {
			var r struct {
				Index  int             `json:"index"`
				Output json.RawMessage `json:"output"`
			}
			if err := json.Unmarshal(line, &r); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %d %s", s.ID, r.Index, noDuration.ReplaceAll(r.Output, nil)))
		}
	}
	return out
}

// rawRecorder notes the items whose outputs reach the recorder as JSON
// already, by step and index.
type rawRecorder struct {
	mu  sync.Mutex
	raw map[string]map[int]bool
}

func (r *rawRecorder) ItemDone(step *spec.Step, res *ItemResult) error {
	if _, ok := res.Output.(json.RawMessage); ok {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.raw[step.ID] == nil {
			r.raw[step.ID] = map[int]bool{}
		}
		r.raw[step.ID][res.Index] = true
	}
	return nil
}
func (*rawRecorder) StepDone(*spec.Step, *StepReport) error { return nil }
func (*rawRecorder) RunDone(*Report) error                  { return nil }

// TestCompactResultsMaskEveryForm: a form of a secret that only a decoded
// string shows (the URL escape of a secret holding '&', which JSON writes
// as \u0026 with HTML escaping) is masked in an output kept as JSON even
// when what set masking off (a URL) is in another member, and in a
// results file's line, where nothing else does.
func TestCompactResultsMaskEveryForm(t *testing.T) {
	const secret = "pass&word!"
	dir := t.TempDir()
	wf := load(t, `
version: 1
inputs:
  token: {type: string, secret: true}
steps:
  - id: fan
    parallel: {items: [1]}
    probe: {out: {a: "/u/pass&word%21", u: "https://example.test/"}}
  - id: filed
    parallel: {items: [1], results: failures, results_file: `+dir+`/out.jsonl}
    probe: {out: {a: "/u/pass&word%21"}}
`)
	buf := reportForms(t, wf, secret)
	file, err := os.ReadFile(dir + "/out.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"report": buf.String(), "results file": string(file)} {
		if strings.Contains(text, "word%21") || !strings.Contains(text, `"/u/`+mask.Replacement+`"`) {
			t.Errorf("%s: the URL escape of the secret is not masked:\n%s", name, text)
		}
	}
}

// jsonOut is a step that returns its output written by package stepjson,
// as a third party's step may.
type jsonOut struct {
	N int `yaml:"n"`
}

func (s *jsonOut) Run(context.Context, *steps.Input) (any, error) {
	return stepjson.Object(stepjson.Field{Key: "n", Value: s.N}, stepjson.Field{Key: "name", Value: "x"})
}

// TestStepJSONOutput: an output a step wrote with package stepjson is
// kept as that JSON where nothing reads it, and is its values where an
// expression does.
func TestStepJSONOutput(t *testing.T) {
	reg := registry()
	reg.Register(steps.Info{Type: "jsonout", New: func() steps.Step { return new(jsonOut) }})
	wf := loadWith(t, reg, `
version: 1
steps:
  - id: unread
    parallel: {items: [1, 2]}
    jsonout: {n: "${{ item }}"}
  - id: read
    parallel: {items: [1, 2]}
    jsonout: {n: "${{ item }}"}
  - id: sum
    probe: {out: "${{ steps.read.outputs[1].n + 40 }}"}
`)
	resetProbes()
	rep := Run(t.Context(), wf, Options{CompactResults: true})
	if rep.Status != Succeeded {
		t.Fatalf("%s: %s", rep.Status, rep.Error)
	}
	for _, r := range rep.Step("unread").Results {
		raw, ok := r.Output.(json.RawMessage)
		if !ok || string(raw) != fmt.Sprintf(`{"n":%d,"name":"x"}`, r.Index+1) || !outputIsJSON(r) {
			t.Errorf("unread item %d: output %T %v; want its JSON, kept as it is", r.Index, r.Output, r.Output)
		}
	}
	if got := rep.Step("sum").Output; got != 42 {
		t.Errorf("an expression reading the outputs got %v; want 42", got)
	}
	if out, ok := rep.Step("read").Results[0].Output.(map[string]any); !ok || out["name"] != "x" {
		t.Errorf("read item 0: output %T %v; want its values", rep.Step("read").Results[0].Output, rep.Step("read").Results[0].Output)
	}
}

// TestMaskedOutputKeyTwice: a secret in the first of two equal keys,
// which decoding drops, is not written with the output's text.
func TestMaskedOutputKeyTwice(t *testing.T) {
	const secret = "s3cr3t-T0ken-value"
	m := mask.New(secret)
	for _, raw := range []string{
		`{"k":"` + secret + `","k":"x"}`,
		`{"body":{"a":"` + secret + `","a":"x"},"n":1}`,
	} {
		out, _ := maskedOutput(m, &ItemResult{Status: Succeeded, Output: json.RawMessage(raw), outJSON: []byte(raw)})
		b, _, err := jsonenc.Output(nil, out)
		if err != nil || strings.Contains(string(b), secret) {
			t.Errorf("%s masked to %s (%v)", raw, b, err)
		}
	}
}
