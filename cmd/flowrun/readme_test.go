package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/cmd/flowrun/cli"
)

// The README promises that every command it shows runs as shown. These
// tests hold it to that: every flowrun command line in it must parse
// against the real command line (commands, flags, enum values), and the
// commands that need nothing but this repository run for real.

// readmeCommand is one flowrun command line found in the README.
type readmeCommand struct {
	line   int
	text   string // as written
	inline bool   // a code span in prose, which may just name a command
}

var (
	// inlineCode is a `code span`.
	inlineCode = regexp.MustCompile("`([^`]+)`")
	// placeholders are the upper-case words the README writes for values.
	placeholders = map[string]string{
		"FILE": "wf.yaml", "FILE.json": "report.json", "FILE.html": "report.html", "RUN_ID": "2f9d166581ac",
		"N": "2", "DIR": "dir", "ID": "2f9d166581ac", "URL": "nats://127.0.0.1:4222", "NAME": "w1",
	}
)

// readmeCommands returns the flowrun command lines of README.md: lines of
// code blocks and code spans that start with `flowrun ` (or `$ flowrun `,
// `go run ./cmd/flowrun `), cut at a pipe or a redirection.
func readmeCommands(t *testing.T) []readmeCommand {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []readmeCommand
	add := func(line int, s string, inline bool) {
		s = strings.TrimSpace(s)
		s = strings.TrimPrefix(s, "$ ")
		for _, prefix := range []string{"- run: ", "run: ", "entry: "} {
			s = strings.TrimPrefix(s, prefix)
		}
		s = strings.Replace(s, "go run ./cmd/flowrun ", "flowrun ", 1)
		if !strings.HasPrefix(s, "flowrun ") {
			return
		}
		if i := strings.Index(s, " #"); i >= 0 {
			s = s[:i]
		}
		for _, cut := range []string{" | ", " > ", " 2>&1", " && ", "; "} {
			if i := strings.Index(s, cut); i >= 0 {
				s = s[:i]
			}
		}
		out = append(out, readmeCommand{line, strings.TrimSpace(s), inline})
	}
	inBlock := false
	for i, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inBlock = !inBlock
			continue
		}
		if inBlock {
			add(i+1, l, false)
			continue
		}
		if strings.HasPrefix(l, ">") {
			continue // a note about the text, not a command to type
		}
		for _, m := range inlineCode.FindAllStringSubmatch(l, -1) {
			add(i+1, m[1], true)
		}
	}
	if len(out) < 10 {
		t.Fatalf("found %d flowrun commands in README.md; the extraction is broken", len(out))
	}
	return out
}

// isSynopsis reports whether a command line describes a shape ([--flag],
// a|b) rather than a command to type.
func isSynopsis(s string) bool {
	return strings.ContainsAny(s, "[|") || strings.Contains(s, "...")
}

// args splits a command line as a shell would for the simple quoting the
// README uses, replacing placeholders with sample values.
func args(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	inWord := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	for i, a := range out {
		if v, ok := placeholders[a]; ok {
			out[i] = v
		}
		if k, v, ok := strings.Cut(a, "="); ok {
			if p, ok := placeholders[v]; ok {
				out[i] = k + "=" + p
			}
		}
	}
	return out
}

// TestReadmeCommandsParse: every concrete flowrun command in the README is
// one the command line accepts, and every flag a synopsis line names
// exists on its command.
func TestReadmeCommandsParse(t *testing.T) {
	flag := regexp.MustCompile(`(--[a-z][a-z-]*)`)
	for _, c := range readmeCommands(t) {
		a := args(c.text)[1:]
		if !isSynopsis(c.text) {
			err := cli.Parse(a)
			if err != nil && c.inline && strings.Contains(err.Error(), `expected "<`) {
				continue // prose naming a command: "`flowrun apply` prints ..."
			}
			if err != nil {
				t.Errorf("README.md:%d: %q does not parse: %v", c.line, c.text, err)
			}
			continue
		}
		// A synopsis: its command words, then each flag alone.
		var cmd []string
		for _, w := range a {
			if strings.HasPrefix(w, "-") || strings.ContainsAny(w, "[|.") || strings.ToUpper(w) == w {
				break
			}
			cmd = append(cmd, w)
		}
		for _, f := range flag.FindAllString(c.text, -1) {
			if err := cli.Parse(append(append([]string{}, cmd...), "--help", f)); err != nil && strings.Contains(err.Error(), "unknown flag") {
				t.Errorf("README.md:%d: %s has no flag %s (%q)", c.line, strings.Join(cmd, " "), f, c.text)
			}
		}
	}
}

// TestReadmeCommandsRun runs, for real, the README's commands that need
// nothing outside this repository: the first screen's example, and the
// examples that need no server. Each must exit 0.
func TestReadmeCommandsRun(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// The examples that reach the demo backend are run against it by the
	// examples package's tests; so is the resume of a failed run, which
	// needs the failed run first (examples/resume_example_test.go).
	needsServer := regexp.MustCompile(`migrate-namespaces|health-checks|load-test|demoserver|--nats|--resume`)
	ran := 0
	for _, c := range readmeCommands(t) {
		a := args(c.text)
		if isSynopsis(c.text) || needsServer.MatchString(c.text) || len(a) < 3 || a[1] != "apply" {
			continue
		}
		file := filepath.Join(root, a[2])
		if _, err := os.Stat(file); err != nil {
			continue // a file of the reader's, such as wf.yaml
		}
		cmd := exec.Command("flowrun", a[1:]...) // this test binary, from PATH (TestMain)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "FLOWRUN_STATE_DIR="+t.TempDir())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("README.md:%d: %s: %v\n%s", c.line, c.text, err, out)
		}
		ran++
	}
	if ran < 2 {
		t.Errorf("ran %d README commands; want at least the first screen's and the examples table's", ran)
	}
}

// TestReadmeFirstScreen runs the first screen's example exactly as written,
// through go run, from the repository's root.
func TestReadmeFirstScreen(t *testing.T) {
	if testing.Short() {
		t.Skip("builds flowrun with go run")
	}
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?m)^(go run ./cmd/flowrun apply \\S+)").FindSubmatch(b)
	if m == nil {
		t.Fatal("the README's first screen has no `go run ./cmd/flowrun apply` command")
	}
	cmd := exec.Command("sh", "-c", string(m[1]))
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "FLOWRUN_STATE_DIR="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", m[1], err, out)
	}
}
