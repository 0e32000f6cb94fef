package examples_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/cmd/flowrun/cli"
)

func init() {
	// The README's worked example of "Resuming a run": a table fails,
	// the run is resumed, only that table is copied again.
	exampleTests["resume.yaml"] = func(t *testing.T) {
		state := t.TempDir()
		run := func(args ...string) (int, string, string) {
			var stdout, stderr bytes.Buffer
			code := cli.Run(append([]string{"apply", "resume.yaml", "--state-dir", state}, args...), strings.NewReader(""), &stdout, &stderr)
			return code, stdout.String(), stderr.String()
		}
		t.Setenv("BROKEN", "table-7")
		code, stdout, stderr := run()
		hint := regexp.MustCompile(`flowrun: to resume this run: flowrun apply resume.yaml --resume [0-9a-f]{12} --state-dir \S+\n$`)
		if code != 1 || stdout != "tables: 11\nrows: 71000\n" || !strings.Contains(stderr, `step "copy" item 6 (key "table-7"): exit status 1: table-7: row 42 violates constraint fk_owner`) || !hint.MatchString(stderr) {
			t.Fatalf("with table-7 broken: exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		t.Setenv("BROKEN", "")
		code, stdout, stderr = run("--resume", "--verbose")
		if code != 0 || stdout != "tables: 12\nrows: 78000\n" || !strings.Contains(stderr, "restored from earlier attempts at this run: schema, copy (11 of 12 items; 1 ran now)") {
			t.Errorf("resumed: exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		if strings.Count(stderr, "copying table-") != 1 || !strings.Contains(stderr, "copying table-7") {
			t.Errorf("the resume copied other tables than table-7:\n%s", stderr)
		}
	}
}
