package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCustomBinary builds this custom flowrun as a user would, then runs
// it: it lists acme.greet and runs a workflow that uses it.
func TestCustomBinary(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	bin := filepath.Join(t.TempDir(), "flowrun-acme")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(args ...string) (string, string, error) {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}

	t.Run("steps", func(t *testing.T) {
		stdout, stderr, err := run("steps")
		if err != nil {
			t.Fatalf("flowrun steps: %v\n%s", err, stderr)
		}
		for _, want := range []string{"acme.greet\n", "shorthand: acme.greet: <name>", "http\n"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("flowrun steps lists:\n%s\nwant it to contain %q", stdout, want)
			}
		}
	})
	t.Run("apply", func(t *testing.T) {
		stdout, stderr, err := run("apply", "greet.yaml", "--state-dir", t.TempDir())
		want := "messages: [\"HELLO, ADA!\",\"HELLO, GRACE!\",\"HELLO, LINUS!\"]\nplain: hello, world!\n"
		if err != nil || stdout != want {
			t.Errorf("apply: %v, stdout:\n%s\nwant:\n%s\nstderr:\n%s", err, stdout, want, stderr)
		}
	})
}
