package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/flowrun/flowrun/cmd/flowrun/cli"
	"github.com/flowrun/flowrun/internal/proc"
	_ "github.com/flowrun/flowrun/pkg/steps/all"
)

// TestMain makes this test binary double as the flowrun command: scripts
// and the tests below run it as `flowrun` from PATH.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"flowrun": cli.Main})
}

// TestScripts runs the end-to-end scripts in testdata/script.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") != "",
	})
}

// flowrun runs the command in dir and returns its exit code and output.
func flowrun(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command("flowrun", args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("flowrun %v: %v", args, err)
	return 0, "", ""
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.TrimLeft(content, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "ok.yaml", `
version: 1
inputs:
  n: {type: integer, default: 1}
steps:
  - id: a
    run: "true"
`)
	write(t, dir, "fail.yaml", `
version: 1
steps:
  - id: a
    run: exit 3
`)
	write(t, dir, "invalid.yaml", `
version: 1
steps:
  - id: a
    rn: echo
`)
	tests := []struct {
		name string
		args []string
		want int
		msg  string // in stderr
	}{
		{"success", []string{"apply", "ok.yaml"}, 0, "run "},
		{"workflow fails", []string{"apply", "fail.yaml"}, 1, `fail.yaml:4:5: step "a": exit status 3`},
		{"invalid file", []string{"apply", "invalid.yaml"}, 2, `invalid.yaml:4:5: error: unknown key "rn" in step`},
		{"missing file", []string{"apply", "nope.yaml"}, 2, "no such file"},
		{"bad input type", []string{"apply", "ok.yaml", "--set", "n=three"}, 2, `input "n": want an integer, got "three"`},
		{"unknown input", []string{"apply", "ok.yaml", "--set", "m=1"}, 2, `unknown input "m"; did you mean "n"?`},
		{"unknown flag", []string{"apply", "ok.yaml", "--wrokers", "2"}, 2, "unknown flag --wrokers"},
		{"validate valid", []string{"validate", "ok.yaml"}, 0, ""},
		{"validate invalid", []string{"validate", "ok.yaml", "invalid.yaml"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := flowrun(t, dir, tt.args...)
			if code != tt.want {
				t.Errorf("exit %d; want %d\nstdout:\n%s\nstderr:\n%s", code, tt.want, stdout, stderr)
			}
			if !strings.Contains(stderr, tt.msg) {
				t.Errorf("stderr:\n%s\nwant it to contain %q", stderr, tt.msg)
			}
		})
	}
}

// TestInterrupt sends SIGINT to a running flowrun: its children are
// stopped, finally steps run, and it exits 130.
func TestInterrupt(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "wait.yaml", `
version: 1
steps:
  - id: wait
    parallel: {items: [1, 2], workers: 2}
    run: |
      sleep 30 &
      echo $! > child-$INDEX.pid
      echo started > started-$INDEX
      wait
finally:
  - id: cleanup
    run: echo "${{ run.status }}" > finally.txt
`)
	cmd := exec.Command("flowrun", "apply", "wait.yaml")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, filepath.Join(dir, "started-0"), filepath.Join(dir, "started-1"))
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("flowrun exited with %v; want exit status 130\nstderr:\n%s", err, stderr.String())
	}
	for i := range 2 {
		pid := readPID(t, filepath.Join(dir, "child-"+strconv.Itoa(i)+".pid"))
		if proc.Alive(pid) {
			t.Errorf("child %d (sleep 30) is still alive after flowrun exited", pid)
		}
	}
	got, _ := os.ReadFile(filepath.Join(dir, "finally.txt"))
	if strings.TrimSpace(string(got)) != "cancelled" {
		t.Errorf("finally step wrote %q; want it to run and see run.status cancelled", got)
	}
}

// waitFor waits until every file exists: the children have started.
func waitFor(t *testing.T, files ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, f := range files {
		for {
			if _, err := os.Stat(f); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never appeared", f)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func readPID(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}
