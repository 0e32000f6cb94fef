package spec_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/flowrun/flowrun/pkg/spec"
	_ "github.com/flowrun/flowrun/pkg/steps/all"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// render loads a file with the built-in step types and renders its
// diagnostics as `flowrun validate` prints them.
func render(t *testing.T, path string) (spec.Diagnostics, string) {
	t.Helper()
	// The samples call files in testdata/called.
	w, ds := spec.Load(path, spec.Options{AllowPaths: []string{"testdata"}})
	sources := map[string][]byte{}
	if w != nil {
		sources[path] = w.Source
	} else if src, err := os.ReadFile(path); err == nil {
		sources[path] = src
	}
	var b bytes.Buffer
	ds.Format(&b, sources)
	// Paths a diagnostic shows absolute (an items_from file) are written
	// relative to the package, so that the goldens hold on any machine.
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return ds, strings.ReplaceAll(b.String(), wd+string(filepath.Separator), "")
}

// TestInvalidCorpus checks every file in testdata/invalid: one behaviour
// per file, named for it, its rendered diagnostics in a .golden file
// beside it (go test ./pkg/spec -update rewrites them).
func TestInvalidCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("got %d invalid workflows; want at least 50", len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			ds, got := render(t, path)
			if !ds.HasErrors() {
				t.Fatalf("%s: got no error; want at least one", path)
			}
			for _, d := range ds {
				if d.Line == 0 || d.Column == 0 {
					t.Errorf("%s: diagnostic without a position: %v", path, d)
				}
			}
			golden := strings.TrimSuffix(path, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./pkg/spec -update)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s: diagnostics differ from %s (-want +got):\n%s", path, golden, diff)
			}
		})
	}
}

// TestValidCorpus checks that the valid samples and the examples load
// without a single diagnostic.
func TestValidCorpus(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	examples, _ := filepath.Glob("../../examples/*.yaml")
	files = append(files, examples...)
	if len(files) < 3 {
		t.Fatalf("got %d valid workflows; want the samples and the examples", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			ds, got := render(t, path)
			if len(ds) > 0 {
				t.Errorf("%s: got diagnostics; want none:\n%s", path, got)
			}
		})
	}
}
