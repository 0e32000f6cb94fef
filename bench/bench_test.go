// Package bench_test checks that the workflows compare.sh runs are valid
// and run, at a size that keeps the test fast.
package bench_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/cmd/flowrun/cli"
	_ "github.com/flowrun/flowrun/pkg/steps/all"
)

func TestBenchWorkflows(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) != 4 {
		t.Fatalf("found %v (%v); want the 4 workflows compare.sh runs", files, err)
	}
	var stdout, stderr bytes.Buffer
	if code := cli.Run(append([]string{"validate"}, files...), strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("validate exit %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cli.Run([]string{"apply", f, "--set", "n=20"}, strings.NewReader(""), &stdout, &stderr)
			if code != 0 {
				t.Errorf("apply %s exit %d:\n%s%s", f, code, stdout.String(), stderr.String())
			}
		})
	}
}
