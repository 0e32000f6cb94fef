// Package bench_test checks that the workflows compare.sh runs are valid
// and run, at a size that keeps the test fast.
package bench_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/cmd/flowrun/cli"
	_ "github.com/flowrun/flowrun/pkg/steps/all"
)

func TestBenchWorkflows(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) != 6 {
		t.Fatalf("found %v (%v); want the 6 workflows compare.sh runs", files, err)
	}
	// http-get.yaml's requests go to a loopback server, as compare.sh's do.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	if code := cli.Run(append([]string{"validate"}, files...), strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("validate exit %d:\n%s%s", code, stdout.String(), stderr.String())
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := []string{"apply", f, "--set", "n=20", "--state-dir", t.TempDir()}
			if strings.HasPrefix(f, "http-") {
				args = append(args, "--set", "url="+srv.URL)
			}
			code := cli.Run(args, strings.NewReader(""), &stdout, &stderr)
			if code != 0 {
				t.Errorf("apply %s exit %d:\n%s%s", f, code, stdout.String(), stderr.String())
			}
		})
	}
}
