package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWrittenFilesArePrivate checks that the report files and a block's
// results_file are created 0600, and that a report left 0644 by an
// earlier run is narrowed: a run may write what it was told in secret.
func TestWrittenFilesArePrivate(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "wf.yaml", `
version: 1
steps:
  - id: fan
    parallel: {items: [1, 2], results_file: results.jsonl}
    run: "true"
`)
	old := filepath.Join(dir, "old.json")
	if err := os.WriteFile(old, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(old, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, report := range []string{"report.json", "report.html", "old.json"} {
		if code, _, stderr := flowrun(t, dir, "apply", "wf.yaml", "--report", report); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	}
	for _, name := range []string{"report.json", "report.html", "old.json", "results.jsonl"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if mode := st.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: mode %v; want 0600", name, mode)
		}
	}
}

// testSecret is the secret input of the tests below, long enough to be
// told apart in pieces.
const testSecret = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// secretPieces returns the pieces of testSecret, 6 characters or more,
// that s shows: a secret cut in two is still given away.
func secretPieces(s string) []string {
	var out []string
	for n := len(testSecret); n >= 6; n-- {
		for i := 0; i+n <= len(testSecret); i++ {
			p := testSecret[i : i+n]
			if strings.Contains(s, p) && !containsAny(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

func containsAny(have []string, p string) bool {
	for _, h := range have {
		if strings.Contains(h, p) {
			return true
		}
	}
	return false
}

// applySecret runs file with the secret input token and returns
// everything flowrun wrote: stdout (-o json), stderr and the report.
func applySecret(t *testing.T, dir, file string, extra ...string) string {
	t.Helper()
	args := append([]string{"apply", "--progress", "never", "--verbose", "-o", "json", "--report", "report.json",
		"--set", "token=" + testSecret, file}, extra...)
	_, stdout, stderr := flowrun(t, dir, args...)
	report, _ := os.ReadFile(filepath.Join(dir, "report.json"))
	return "stdout:\n" + stdout + "\nstderr:\n" + stderr + "\nreport.json:\n" + string(report)
}

// TestSecretInListOfStringsMasked: an expression can produce a []string
// (split), not only the []any of decoded YAML: `outputs: {parts: "${{
// split(inputs.token, '|') }}"}` is masked on stdout, in -o json, in the
// report and, through a called workflow's output, in a results_file (the
// masker once walked []any and map[string]any only, and wrote it whole).
func TestSecretInListOfStringsMasked(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "wf.yaml", `
version: 1
inputs:
  token: {type: string, secret: true}
steps:
  - id: a
    log: hi
  - id: call
    parallel: {items: [1], results_file: results.jsonl}
    uses: ./callee.yaml
    with: {t: "${{ inputs.token }}"}
outputs:
  parts: "${{ split(inputs.token, '|') }}"
`)
	write(t, dir, "callee.yaml", `
version: 1
inputs:
  t: {type: string}
steps:
  - id: a
    log: hi
outputs:
  parts: "${{ split(inputs.t, '|') }}"
`)
	all := applySecret(t, dir, "wf.yaml")
	results, _ := os.ReadFile(filepath.Join(dir, "results.jsonl"))
	all += "\nresults.jsonl:\n" + string(results)
	_, text, _ := flowrun(t, dir, "apply", "--progress", "never", "--set", "token="+testSecret, "wf.yaml")
	all += "\ntext stdout:\n" + text
	if p := secretPieces(all); len(p) > 0 {
		t.Errorf("the secret shows in what flowrun wrote: %q\n%s", p, all)
	}
}

// TestSecretInLongStderrLineMasked: a stderr line longer than 64 KiB is
// written in pieces, each masked before it is cut, with the start of a
// secret at the cut kept for the next piece: a secret across the cut is
// masked whole (it once showed as `[a] aaa…aABCDEF` and
// `[a] GHIJKLMNOPQRSTUVWXYZ0123456789`).
func TestSecretInLongStderrLineMasked(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "wf.yaml", `
version: 1
inputs:
  token: {type: string, secret: true}
steps:
  - id: a
    run: |
      { head -c 65530 /dev/zero | tr '\0' a; printf '%s\n' "${{ inputs.token }}"; } >&2
`)
	all := applySecret(t, dir, "wf.yaml")
	if p := secretPieces(all); len(p) > 0 {
		t.Errorf("the secret shows in what flowrun wrote: %q", p)
	}
}

// TestSecretCutByStderrTailMasked: a failed command's error ends with its
// last stderr line, masked and only then cut to 200 bytes, so a secret
// that straddles byte 200 is masked whole (it once showed as "exit status
// 1: 000…000ABCDEFGHIJ" in the summary, -o json and the report).
func TestSecretCutByStderrTailMasked(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "wf.yaml", `
version: 1
inputs:
  token: {type: string, secret: true}
steps:
  - id: b
    run: |
      printf '%0190d%s\n' 0 "${{ inputs.token }}" >&2
      exit 1
`)
	all := applySecret(t, dir, "wf.yaml")
	if p := secretPieces(all); len(p) > 0 {
		t.Errorf("the secret shows in what flowrun wrote: %q", p)
	}
}

// TestSecretCutByHTTPBodySnippetMasked: an http step's error quotes the
// start of the response body, masked before it is cut to 200 bytes: a
// server that echoes the token (a 401 "invalid token ...") past byte 190
// has it masked whole (it once showed as "body: xxx…ABCDEFGHIJ…").
func TestSecretCutByHTTPBodySnippetMasked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, strings.Repeat("x", 190)+r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	write(t, dir, "wf.yaml", `
version: 1
inputs:
  token: {type: string, secret: true}
  url: {type: string}
steps:
  - id: h
    http:
      url: ${{ inputs.url }}
      headers: {Authorization: "${{ inputs.token }}"}
`)
	all := applySecret(t, dir, "wf.yaml", "--set", "url="+srv.URL)
	if !strings.Contains(all, "status 401") {
		t.Fatalf("no 401 failure:\n%s", all)
	}
	if p := secretPieces(all); len(p) > 0 {
		t.Errorf("the secret shows in what flowrun wrote: %q", p)
	}
}

// TestSecretWithAmpersandInURLMasked: secrets are masked before URL
// credentials are redacted: a secret holding '&' written into a query (as
// passwords may) is masked whole, where redacting `token=` first cuts it
// at the '&' and leaves the rest unrecognised (it once showed as
// "?token=***&GHIJKLMNOPQRSTUVWXYZ0123456789").
func TestSecretWithAmpersandInURLMasked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	dir := t.TempDir()
	write(t, dir, "wf.yaml", `
version: 1
inputs:
  token: {type: string, secret: true}
  url: {type: string}
steps:
  - id: h
    http: "${{ inputs.url }}/x?token=${{ inputs.token }}"
`)
	secret := "ABCDEF&GHIJKLMNOPQRSTUVWXYZ0123456789"
	_, stdout, stderr := flowrun(t, dir, "apply", "--progress", "never", "-o", "json",
		"--set", "token="+secret, "--set", "url="+srv.URL, "wf.yaml")
	all := stdout + stderr
	if !strings.Contains(all, "status 500") {
		t.Fatalf("no 500 failure:\n%s", all)
	}
	if strings.Contains(all, "GHIJKLMNOPQRSTUVWXYZ0123456789") {
		t.Errorf("the part of the secret after '&' shows in what flowrun wrote:\n%s", all)
	}
}

// TestSecretWithControlCharacterMaskedInSummary: the summary masks, then
// escapes for the terminal (ESC becomes <U+001B>): escaping first leaves
// a secret holding a control character unrecognised (it once showed as
// "1. …: bad token ABCDEFGHIJKLMNOPQR<U+001B>STUVWXYZ0123456789").
func TestSecretWithControlCharacterMaskedInSummary(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "wf.yaml", `
version: 1
inputs:
  token: {type: string, secret: true}
steps:
  - id: a
    assert: {that: false, message: "bad token ${{ inputs.token }}"}
`)
	secret := "ABCDEFGHIJKLMNOPQR\x1bSTUVWXYZ0123456789"
	_, stdout, stderr := flowrun(t, dir, "apply", "--progress", "never", "--set", "token="+secret, "wf.yaml")
	all := stdout + stderr
	if strings.Contains(all, "ABCDEFGHIJKLMNOPQR") || strings.Contains(all, "STUVWXYZ0123456789") {
		t.Errorf("the secret shows in what flowrun wrote:\n%s", all)
	}
}
