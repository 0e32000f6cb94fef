package exec

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/flowrun/flowrun/pkg/mask"
	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
	_ "github.com/flowrun/flowrun/pkg/steps/basic"
)

// syncBuffer is a log that many items write at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSecretsMaskedInWhatTheRunWrites runs real children that print a
// secret input whole, in two writes, and in a failure, and checks the
// log, the log tails, the results file and the masked report; the
// expressions of the run still see the real value.
func TestSecretsMaskedInWhatTheRunWrites(t *testing.T) {
	const secret = "s3cr3t-t0k3n-value"
	dir := t.TempDir()
	src := `
version: 1
inputs:
  token: {type: string, secret: true}
env:
  TOKEN: ${{ inputs.token }}
steps:
  - id: split
    run: |
      printf 's3cr3t-t0k' >&2
      sleep 0.05
      printf '3n-value and more\n' >&2
  - id: fan
    parallel: {items: [0, 1], on_error: continue, max_failures: 1, results_file: results.jsonl}
    run: |
      echo "stderr $TOKEN" >&2
      [ "$ITEM" = 1 ] || exit 3
      echo "$TOKEN"
  - id: check
    assert: {that: "${{ steps.fan.results[1].output == inputs.token }}", message: the output was changed}
  - id: say
    needs: [check, split]
    assert: {that: false, message: "token is ${{ inputs.token }}"}
`
	file := filepath.Join(dir, "wf.yaml")
	if err := os.WriteFile(file, []byte(strings.TrimLeft(src, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	wf, ds := spec.Load(file, spec.Options{Registry: steps.Default})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	var log syncBuffer
	m := mask.New()
	rep := Run(context.Background(), wf, Options{Inputs: map[string]any{"token": secret}, Log: &log, Mask: m})

	if st := rep.Step("check").Status; st != Succeeded {
		t.Errorf("check %s (%s); want succeeded: expressions must see the real value", st, rep.Step("check").Error)
	}
	if st := rep.Step("say").Status; st != Failed {
		t.Fatalf("say %s; want failed", st)
	}
	if rep.Inputs["token"] != mask.Replacement {
		t.Errorf("report input token = %v; want %s", rep.Inputs["token"], mask.Replacement)
	}
	if got := log.String(); strings.Contains(got, secret) || strings.Contains(got, "s3cr3t-t0k\n") || !strings.Contains(got, "[split] *** and more") || !strings.Contains(got, "stderr ***") {
		t.Errorf("log not masked:\n%s", got)
	}
	if tail := rep.Step("fan").Results[0].LogTail; tail != "stderr ***" {
		t.Errorf("failed item's log tail %q; want %q", tail, "stderr ***")
	}
	masked, err := json.Marshal(rep.Masked(m))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(masked, []byte(secret)) || !bytes.Contains(masked, []byte(`token is ***`)) {
		t.Errorf("masked report holds the secret or lost the error:\n%s", masked)
	}
	raw, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(secret)) {
		t.Error("Run masked its own report: callers and expressions need the values")
	}
	results := filepath.Join(dir, "results.jsonl")
	b, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(secret)) || !bytes.Contains(b, []byte(`"output":"***"`)) {
		t.Errorf("results file not masked:\n%s", b)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if !json.Valid(line) {
			t.Errorf("results file line is not JSON: %s", line)
		}
	}
	if st, err := os.Stat(results); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("results file mode %v (%v); want 0600", st.Mode().Perm(), err)
	}
}

// TestCalleeSecretsMasked checks that a secret input of a workflow called
// with uses: is masked in the caller's log and report, though the caller
// does not know it as a secret.
func TestCalleeSecretsMasked(t *testing.T) {
	t.Setenv("FLOWRUN_TEST_CALLEE_KEY", "callee-only-secret")
	wf := loadFilesWith(t, steps.Default, map[string]string{
		"main.yaml": `
version: 1
steps:
  - id: call
    uses: ./callee.yaml
`,
		"callee.yaml": `
version: 1
inputs:
  key: {secret: true, env: FLOWRUN_TEST_CALLEE_KEY}
steps:
  - id: say
    log: key ${{ inputs.key }}
  - id: fail
    needs: [say]
    assert: {that: false, message: "bad ${{ inputs.key }}"}
`,
	})
	var log syncBuffer
	m := mask.New()
	rep := Run(context.Background(), wf, Options{Log: &log, Mask: m})
	if rep.Status != Failed {
		t.Fatalf("status %s; want failed", rep.Status)
	}
	if got := log.String(); strings.Contains(got, "callee-only-secret") || !strings.Contains(got, "key ***") {
		t.Errorf("log not masked:\n%s", got)
	}
	b, _ := json.Marshal(rep.Masked(m))
	if bytes.Contains(b, []byte("callee-only-secret")) {
		t.Errorf("masked report holds the callee's secret:\n%s", b)
	}
}

// TestPrefixWriterMasksAcrossWrites feeds a secret one byte per Write.
func TestPrefixWriterMasksAcrossWrites(t *testing.T) {
	var out bytes.Buffer
	p := &prefixWriter{out: newLineWriter(&out), mask: mask.New("abcdef"), id: "s", index: -1}
	for _, c := range []byte("x abcdef y\nabc") {
		p.Write([]byte{c})
	}
	p.Write([]byte("def"))
	p.Flush()
	if got, want := out.String(), "[s] x *** y\n[s] ***\n"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	if got := p.takeTail(true); got != "x *** y\n***" {
		t.Errorf("tail %q", got)
	}
}

// TestPrefixWriterLongLineMaskedAcrossPieces: a line longer than the
// writer holds is written in pieces, each masked before it is cut, with
// the start of a secret the cut would split kept for the next piece; the
// writer holds little more than a line whatever it is fed.
func TestPrefixWriterLongLineMaskedAcrossPieces(t *testing.T) {
	const secret = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	for _, lead := range []int{maxLogLine - 10, maxLogLine - 1, maxLogLine, 2*maxLogLine - 20, 3} {
		for _, step := range []int{1 << 20, 4096, 7} {
			var out bytes.Buffer
			p := &prefixWriter{out: newLineWriter(&out), mask: mask.New(secret), id: "s", index: -1}
			text := []byte(strings.Repeat("a", lead) + secret + strings.Repeat("b", maxLogLine) + secret + "\n")
			for b := text; len(b) > 0; {
				n := min(step, len(b))
				p.Write(b[:n])
				b = b[n:]
				if len(p.buf) > maxLogLine+len(secret) {
					t.Fatalf("the writer holds %d bytes", len(p.buf))
				}
			}
			p.Flush()
			got := out.String()
			for i := 0; i+6 <= len(secret); i++ {
				if strings.Contains(got, secret[i:i+6]) {
					t.Fatalf("lead %d, writes of %d: the log shows %q", lead, step, secret[i:i+6])
				}
			}
			joined := strings.ReplaceAll(strings.ReplaceAll(got, "[s] ", ""), "\n", "")
			if want := strings.Repeat("a", lead) + "***" + strings.Repeat("b", maxLogLine) + "***"; joined != want {
				t.Fatalf("lead %d, writes of %d: the pieces do not join into the masked line", lead, step)
			}
			if tail := p.takeTail(true); strings.Contains(tail, "ABCDEF") {
				t.Fatalf("tail shows the secret")
			}
		}
	}
}

// TestMaskedWorker: the name of the cluster worker that ran an item is
// masked like the item's other text (a worker named after a secret
// host), in the report and so in the HTML report drawn from it.
func TestMaskedWorker(t *testing.T) {
	m := mask.New("s3cret-host")
	res := &ItemResult{Index: 0, Key: "k", Status: Succeeded, Worker: "s3cret-host:42"}
	plain := &ItemResult{Index: 1, Key: "k1", Status: Succeeded, Worker: "w1"}
	rep := &Report{Steps: []*StepReport{{ID: "fan", Results: []*ItemResult{res, plain}}}}
	got := rep.Masked(m).Steps[0].Results
	if got[0].Worker != "***:42" {
		t.Errorf("worker %q; want ***:42", got[0].Worker)
	}
	if got[1] != plain {
		t.Errorf("a result that masking leaves unchanged was copied")
	}
	if res.Worker != "s3cret-host:42" {
		t.Errorf("Masked changed the report's own result: worker %q", res.Worker)
	}
}
