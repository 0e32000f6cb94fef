package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestLargeIntegersEndToEnd runs the reproduction of the bug: ids beyond
// 2^53 in an http step's JSON response, fanned out as a parallel block's
// items into URLs, environment variables, outputs, the report and
// results_file. Every one must carry the ids digit for digit.
func TestLargeIntegersEndToEnd(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/ids" {
			_, _ = w.Write([]byte(`{"ids":[1234567890123456789, 9007199254740993, 18446744073709551615]}`))
			return
		}
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		_, _ = w.Write([]byte(`{"copied": ` + strings.TrimPrefix(r.URL.Path, "/copy/") + `}`))
	}))
	defer srv.Close()

	dir := t.TempDir()
	write(t, dir, "ids.yaml", `
version: 1
inputs:
  base: {type: string}
steps:
  - id: list
    http: ${{ inputs.base }}/ids
  - id: copy
    parallel:
      items: ${{ steps.list.output.body.ids }}
      as: id
      workers: 3
      results_file: results.jsonl
    http: ${{ inputs.base }}/copy/${{ id }}
  - id: env
    parallel:
      items: ${{ steps.list.output.body.ids }}
    run: echo "$ITEM"
outputs:
  first: ${{ steps.list.output.body.ids[0] }}
  copied: ${{ steps.copy.outputs[1].body.copied }}
  echoed: ${{ steps.env.outputs }}
`)
	code, stdout, stderr := flowrun(t, dir, "apply", "ids.yaml", "--set", "base="+srv.URL, "--report", "report.json")
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	ids := []string{"1234567890123456789", "9007199254740993", "18446744073709551615"}
	slices.Sort(paths)
	want := []string{"/copy/" + ids[0], "/copy/" + ids[2], "/copy/" + ids[1]}
	if !slices.Equal(paths, want) {
		t.Errorf("the server got %v; want %v", paths, want)
	}
	for _, line := range []string{"first: " + ids[0], "copied: " + ids[1], `echoed: ["` + strings.Join(ids, `","`) + `"]`} {
		if !strings.Contains(stdout, line+"\n") {
			t.Errorf("stdout lacks %q:\n%s", line, stdout)
		}
	}
	for _, file := range []string{"report.json", "results.jsonl"} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if !strings.Contains(string(b), `"copied":`+id) && !strings.Contains(string(b), `"copied": `+id) {
				t.Errorf("%s lacks the id %s:\n%.2000s", file, id, b)
			}
		}
	}
}
