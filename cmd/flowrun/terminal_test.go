package main

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/creack/pty"
)

// TestOutputsEscapedOnTerminal: outputs printed on a terminal reach it
// with control characters escaped: an output holding "\x1b]0;pwned\x07"
// (set the window title) and a right-to-left override are shown, not
// obeyed. Whether stdout is a terminal is asked of the file itself, once
// (it was once asked of a writer wrapping it, which never is one).
func TestOutputsEscapedOnTerminal(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "wf.yaml", `
version: 1
inputs:
  x: {type: string}
steps:
  - id: a
    run: printf '%s' "${{ inputs.x }}"
outputs:
  o: ${{ steps.a.output }}
`)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	cmd := exec.Command("flowrun", "apply", "--progress", "never", "--set", "x=A\x1b]0;pwned\x07B\u202eC", "wf.yaml")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = tty, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	out, _ := io.ReadAll(ptmx) // until the child closes its side (EIO)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("flowrun: %v\n%s", err, stderr.String())
	}
	screen := string(out)
	if !strings.Contains(screen, "o: A") {
		t.Fatalf("no output line on the terminal: %q", screen)
	}
	if strings.Contains(screen, "\x1b]0;") || strings.Contains(screen, "\u202e") {
		t.Errorf("an output reached the terminal unescaped: %q", screen)
	}
}

// TestPlanEscapedOnTerminal: `flowrun plan` on a pull request's workflow,
// read by a reviewer in a terminal, shows the workflow's name and a
// step's if: condition escaped: an escape sequence in them must not act
// on the terminal (set its title, clear the screen, hide lines).
func TestPlanEscapedOnTerminal(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "wf.yaml", `
version: 1
name: "W\e]0;pwned\aX"
steps:
  - id: a
    if: "${{ \"\e[2J\" != \"\" }}"
    log: hi
`)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	cmd := exec.Command("flowrun", "plan", "wf.yaml")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = tty, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	out, _ := io.ReadAll(ptmx)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("flowrun plan: %v\n%s", err, stderr.String())
	}
	if screen := string(out); strings.Contains(screen, "\x1b") {
		t.Errorf("plan wrote an escape sequence to the terminal: %q", screen)
	}
}

// TestGraphCarriesNoControlCharacters: a graph is a file that is
// rendered, pasted and printed, so its labels carry no raw control
// character, on a terminal or not.
func TestGraphCarriesNoControlCharacters(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "wf.yaml", `
version: 1
name: "W\e]0;pwned\aX"
steps:
  - id: a
    if: "${{ \"\e[2J\" != \"\u202e\" }}"
    log: hi
`)
	for _, format := range []string{"mermaid", "dot"} {
		code, stdout, stderr := flowrun(t, dir, "graph", "--format", format, "wf.yaml")
		if code != 0 {
			t.Fatalf("flowrun graph --format %s: exit %d\n%s", format, code, stderr)
		}
		if strings.ContainsAny(stdout, "\x1b\x07\u202e") || !strings.Contains(stdout, "<U+001B>") && !strings.Contains(stdout, "#lt;U+001B#gt;") {
			t.Errorf("graph --format %s: %q", format, stdout)
		}
	}
}
