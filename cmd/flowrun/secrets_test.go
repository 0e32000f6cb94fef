package main

import (
	"os"
	"path/filepath"
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
