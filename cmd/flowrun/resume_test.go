package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestResumeByIDAndLock resumes a failed run by the id its hint names;
// a second resume of the same run while the first runs is refused; once
// it succeeded, resuming it says so and exits 0.
func TestResumeByIDAndLock(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "wf.yaml", `
version: 1
steps:
  - id: fan
    parallel: {items: [a, b, c], key: "${{ item }}", on_error: continue}
    run: |
      echo "$ITEM" >> ledger
      if [ "$ITEM" = b ]; then
        [ -e fixed ] || exit 1
        touch started
        until [ -e go ]; do sleep 0.01; done
      fi
`)
	code, _, stderr := flowrun(t, dir, "apply", "wf.yaml")
	m := regexp.MustCompile(`(?m)^flowrun: to resume this run: flowrun apply wf.yaml --resume ([0-9a-f]{12})$`).FindStringSubmatch(stderr)
	if code != 1 || m == nil || !strings.HasSuffix(stderr, m[0]+"\n") {
		t.Fatalf("exit %d; want 1 and the command that resumes the run last:\n%s", code, stderr)
	}
	id := m[1]
	write(t, dir, "fixed", "")

	first := exec.Command("flowrun", "apply", "wf.yaml", "--resume", id)
	first.Dir = dir
	var firstErr bytes.Buffer
	first.Stderr = &firstErr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, filepath.Join(dir, "started"))
	code, _, stderr = flowrun(t, dir, "apply", "wf.yaml", "--resume", id[:6])
	if code != 2 || !strings.Contains(stderr, "run "+id+": run is in use by another flowrun (pid ") {
		t.Errorf("second resume: exit %d; want 2, refused by the lock:\n%s", code, stderr)
	}
	write(t, dir, "go", "")
	if err := first.Wait(); err != nil {
		t.Fatalf("first resume: %v\n%s", err, firstErr.String())
	}
	if !strings.Contains(firstErr.String(), "restored from earlier attempts at this run: fan (2 of 3 items; 1 ran now)") {
		t.Errorf("first resume's summary:\n%s", firstErr.String())
	}
	ledger, _ := os.ReadFile(filepath.Join(dir, "ledger"))
	if got := strings.Fields(string(ledger)); len(got) != 4 || got[3] != "b" {
		t.Errorf("ledger %q; want a, b, c once, then b again", got)
	}

	code, _, stderr = flowrun(t, dir, "apply", "wf.yaml", "--resume", id)
	if code != 0 || !strings.Contains(stderr, "run "+id+" already succeeded: nothing to resume") {
		t.Errorf("resume of a run that succeeded: exit %d\n%s", code, stderr)
	}
	code, stdout, _ := flowrun(t, dir, "runs", "show", id)
	if code != 0 || !regexp.MustCompile(`status: +succeeded\n`).MatchString(stdout) || !regexp.MustCompile(`resumes: +1\n`).MatchString(stdout) ||
		!regexp.MustCompile(`items: +3 ok, 0 failed, 0 pending\n`).MatchString(stdout) {
		t.Errorf("runs show:\n%s", stdout)
	}
	code, stdout, _ = flowrun(t, dir, "runs", "show", id, "-o", "json")
	if code != 0 || !strings.Contains(stdout, `"restored":2`) || !strings.Contains(stdout, `"run_id":"`+id+`"`) {
		t.Errorf("the kept report:\n%s", stdout)
	}
}

// TestInterruptedRunNamesResume: an interrupted run ends with the command
// that resumes it too, with the flags that find it.
func TestInterruptedRunNamesResume(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "wait me.yaml", `
version: 1
steps:
  - id: wait
    run: touch started; sleep 30
`)
	cmd := exec.Command("flowrun", "apply", "wait me.yaml", "--state-dir", "my state")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, filepath.Join(dir, "started"))
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit %v; want 130\n%s", err, stderr.String())
	}
	re := regexp.MustCompile(`flowrun: to resume this run: flowrun apply 'wait me.yaml' --resume [0-9a-f]{12} --state-dir 'my state'\n$`)
	if !re.MatchString(stderr.String()) {
		t.Errorf("stderr does not end with the resume command:\n%s", stderr.String())
	}
}
