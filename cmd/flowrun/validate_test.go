package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/cmd/flowrun/cli"
)

// TestValidateCorpus runs flowrun validate on every invalid workflow of
// pkg/spec's corpus, each in text, json and github format: each exits 2,
// reports at least one error, and none panics. The valid samples and the
// examples exit 0.
func TestValidateCorpus(t *testing.T) {
	invalid, _ := filepath.Glob("../../pkg/spec/testdata/invalid/*.yaml")
	if len(invalid) < 50 {
		t.Fatalf("got %d invalid workflows; want at least 50", len(invalid))
	}
	for _, path := range invalid {
		t.Run(filepath.Base(path), func(t *testing.T) {
			for _, format := range []string{"text", "json", "github"} {
				var stdout, stderr bytes.Buffer
				code := cli.Run([]string{"validate", "--format", format, path}, nil, &stdout, &stderr)
				if code != cli.ExitInvalid {
					t.Errorf("--format %s: exit %d; want %d\nstdout:\n%s\nstderr:\n%s", format, code, cli.ExitInvalid, &stdout, &stderr)
				}
				switch format {
				case "json":
					var res struct {
						Valid       bool              `json:"valid"`
						ErrorCount  int               `json:"error_count"`
						Diagnostics []json.RawMessage `json:"diagnostics"`
					}
					if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
						t.Fatalf("--format json: %v\n%s", err, &stdout)
					}
					if res.Valid || res.ErrorCount == 0 || len(res.Diagnostics) < res.ErrorCount {
						t.Errorf("--format json: got %+v; want invalid with errors", res)
					}
				case "github":
					if !strings.HasPrefix(stdout.String(), "::error file=") {
						t.Errorf("--format github: got %q; want ::error annotations", &stdout)
					}
				}
			}
		})
	}
	valid, _ := filepath.Glob("../../pkg/spec/testdata/valid/*.yaml")
	examples, _ := filepath.Glob("../../examples/*.yaml")
	args := append(append([]string{"validate"}, valid...), examples...)
	var stdout, stderr bytes.Buffer
	if code := cli.Run(args, nil, &stdout, &stderr); code != cli.ExitOK {
		t.Errorf("validate of the valid samples and examples: exit %d; want 0\n%s%s", code, &stdout, &stderr)
	}
}
