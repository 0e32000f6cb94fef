// Package examples_test runs every workflow in examples/: an example that
// no test runs is a failure.
package examples_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/cmd/flowrun/cli"
	_ "github.com/flowrun/flowrun/pkg/steps/all"
)

// exampleTests maps an example's file name to the test that runs it. Each
// test file of this package adds its examples in init.
var exampleTests = map[string]func(t *testing.T){}

// apply runs `flowrun apply` in-process and returns the exit code, stdout
// and stderr. The run is recorded in a temporary state directory, not in
// the source tree.
func apply(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Run(append([]string{"apply", "--state-dir", t.TempDir()}, args...), strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func init() {
	exampleTests["hello.yaml"] = func(t *testing.T) {
		code, stdout, stderr := apply(t, "hello.yaml")
		want := "greeting: hello, world\nwords: [\"ONE!\",\"TWO!\",\"THREE!\"]\n"
		if code != 0 || stdout != want {
			t.Errorf("exit %d, stdout:\n%s\nwant exit 0 and:\n%s\nstderr:\n%s", code, stdout, want, stderr)
		}
	}
	exampleTests["batch.yaml"] = func(t *testing.T) {
		for _, tt := range []struct{ count, sum string }{{"20", "2870"}, {"100", "338350"}} {
			code, stdout, stderr := apply(t, "batch.yaml", "--set", "count="+tt.count)
			want := "sum: " + tt.sum + "\nitems: " + tt.count + "\n"
			if code != 0 || stdout != want {
				t.Errorf("count=%s: exit %d, stdout:\n%s\nwant exit 0 and:\n%s\nstderr:\n%s", tt.count, code, stdout, want, stderr)
			}
		}
	}
}

func TestExamples(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			test, ok := exampleTests[f]
			if !ok {
				t.Fatalf("no test runs examples/%s: add one to exampleTests", f)
			}
			test(t)
		})
	}
}

func TestExamplesValidate(t *testing.T) {
	files, _ := filepath.Glob("*.yaml")
	var stdout, stderr bytes.Buffer
	if code := cli.Run(append([]string{"validate"}, files...), strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Errorf("validate exit %d:\n%s%s", code, stdout.String(), stderr.String())
	}
}
