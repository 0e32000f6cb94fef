package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestNonRegularFiles checks that every file flowrun reads — the workflow,
// a callee, --set @FILE, items_from — is refused at once, with its
// position, when it is a device or a FIFO: no endless read of /dev/zero,
// no wait for a FIFO's writer.
func TestNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	write(t, dir, "calls_fifo.yaml", `
version: 1
steps:
  - id: call
    uses: ./fifo
`)
	write(t, dir, "calls_zero.yaml", `
version: 1
steps:
  - id: call
    uses: /dev/zero
`)
	write(t, dir, "items_fifo.yaml", `
version: 1
steps:
  - id: each
    parallel:
      items_from: fifo
    log: ${{ item }}
`)
	write(t, dir, "items_fifo_expr.yaml", `
version: 1
inputs:
  file: {type: string, default: fifo}
steps:
  - id: each
    parallel:
      items_from: ${{ inputs.file }}
    log: ${{ item }}
`)
	write(t, dir, "hello.yaml", `
version: 1
inputs:
  n: {type: integer, default: 1}
steps:
  - id: a
    log: hi
`)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"validate /dev/zero", []string{"validate", "/dev/zero"}, 2, "/dev/zero: error: cannot read workflow: not a regular file (a character device)"},
		{"validate fifo", []string{"validate", "fifo"}, 2, "fifo: error: cannot read workflow: not a regular file (a named pipe)"},
		{"apply fifo", []string{"apply", "fifo"}, 2, "not a regular file (a named pipe)"},
		{"plan fifo", []string{"plan", "fifo"}, 2, "not a regular file (a named pipe)"},
		{"uses fifo", []string{"validate", "calls_fifo.yaml"}, 2, "fifo: error: cannot read workflow: not a regular file (a named pipe)"},
		{"uses /dev/zero", []string{"validate", "calls_zero.yaml"}, 2, `calls_zero.yaml:4:11: error: uses: "/dev/zero" is not allowed`},
		{"uses /dev/zero allowed", []string{"validate", "--allow-path", "/dev", "calls_zero.yaml"}, 2, "/dev/zero: error: cannot read workflow: not a regular file (a character device)"},
		{"set @/dev/zero", []string{"apply", "hello.yaml", "--set", "@/dev/zero"}, 2, "--set @/dev/zero: /dev/zero: not a regular file (a character device)"},
		{"set @fifo", []string{"apply", "hello.yaml", "--set", "@fifo"}, 2, "--set @fifo: fifo: not a regular file (a named pipe)"},
		{"items_from fifo", []string{"apply", "items_fifo.yaml"}, 2, `items_fifo.yaml:5:19: error: items_from ` + filepath.Join(dir, "fifo") + ` is not a regular file (a named pipe)`},
		{"items_from fifo by name", []string{"apply", "items_fifo_expr.yaml"}, 1, `items_fifo_expr.yaml:7:19: step "each": items_from: ` + filepath.Join(dir, "fifo") + `: not a regular file (a named pipe)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := flowrun(t, dir, tt.args...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("flowrun %s: exit %d; want %d and output containing %q\nstdout: %s\nstderr: %s", strings.Join(tt.args, " "), code, tt.code, tt.want, stdout, stderr)
			}
		})
	}
}

// TestSymlinkDotDotCannotLeaveTheTree: `tree/l/../wf.yaml` is, lexically,
// tree/wf.yaml, but the kernel resolves l first and ".." then climbs out
// of l's target: with l -> outside/sub it is outside/wf.yaml. uses: and
// items_from are checked, and opened, as the kernel resolves them, so the
// file outside is refused and never read (it once was: the policy checked
// the cleaned path, and the path as written was opened). A pull request
// can carry the symlink, and a CI checkout's absolute path is predictable.
func TestSymlinkDotDotCannotLeaveTheTree(t *testing.T) {
	root := t.TempDir()
	tree, outside := filepath.Join(root, "tree"), filepath.Join(root, "outside")
	for _, d := range []string{tree, filepath.Join(outside, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(outside, "sub"), filepath.Join(tree, "l")); err != nil {
		t.Fatal(err)
	}
	// Decoys inside the tree, so that the cleaned paths exist.
	write(t, tree, "wf.yaml", "version: 1\nsteps:\n  - id: in\n    log: inside\n")
	write(t, tree, "items.txt", "inside\n")
	// The files outside the tree that must never be read.
	write(t, outside, "wf.yaml", "version: 1\nsteps:\n  - id: out\n    log: OUTSIDE-CALLEE-RAN\n")
	write(t, outside, "items.txt", "OUTSIDE-SECRET-LINE\n")
	write(t, tree, "uses.yaml", fmt.Sprintf(`
version: 1
steps:
  - id: call
    uses: %s/l/../wf.yaml
`, tree))
	write(t, tree, "items.yaml", fmt.Sprintf(`
version: 1
steps:
  - id: each
    parallel: {items_from: {file: %s/l/../items.txt, format: lines}}
    log: "got ${{ item }}"
`, tree))
	// The same path named by an expression, checked when the block starts.
	write(t, tree, "items_expr.yaml", `
version: 1
inputs:
  file: {type: string}
steps:
  - id: each
    parallel: {items_from: "${{ inputs.file }}"}
    log: "got ${{ item }}"
`)
	for _, file := range []string{"uses.yaml", "items.yaml", "items_expr.yaml"} {
		t.Run(file, func(t *testing.T) {
			args := []string{"apply", "--verbose", "--progress", "never", file}
			if file == "items_expr.yaml" {
				args = append(args, "--set", "file="+tree+"/l/../items.txt")
			}
			code, stdout, stderr := flowrun(t, tree, args...)
			out := stdout + stderr
			if strings.Contains(out, "OUTSIDE-") {
				t.Errorf("flowrun apply %s read a file outside the workflow's tree (exit %d):\n%s", file, code, out)
			}
			if code == 0 || !strings.Contains(out, "not allowed") {
				t.Errorf("flowrun apply %s: exit %d; want an error saying the path is not allowed\n%s", file, code, out)
			}
		})
	}
}
