package shell_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/pkg/steps"
	"github.com/flowrun/flowrun/pkg/steps/shell"
	"github.com/google/go-cmp/cmp"
)

func TestRun(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	if err := os.Mkdir(filepath.Join(tmp, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "sub", "f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	real, err := filepath.EvalSymlinks(tmp)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		step    shell.Run
		want    any
		wantErr string
	}{
		{name: "stdout", step: shell.Run{Script: "echo hello; printf 'a b'"}, want: "hello\na b"},
		{name: "empty stdout", step: shell.Run{Script: "true"}, want: ""},
		{name: "workflow dir", step: shell.Run{Script: "pwd -P"}, want: real + "\n"},
		{name: "relative dir", step: shell.Run{Script: "pwd -P", Dir: "sub"}, want: filepath.Join(real, "sub") + "\n"},
		{name: "absolute dir", step: shell.Run{Script: "pwd -P", Dir: real + "/sub"}, want: filepath.Join(real, "sub") + "\n"},
		{name: "shell options", step: shell.Run{Script: "false; echo not reached", Shell: "sh -e"}, wantErr: "exit status 1"},
		{name: "exit status", step: shell.Run{Script: "echo out; echo oops >&2; echo '  ' >&2; exit 3"}, wantErr: "exit status 3: oops"},
		{name: "exit without stderr", step: shell.Run{Script: "exit 4"}, wantErr: "exit status 4"},
		{name: "long stderr line", step: shell.Run{Script: `printf '%0300d\n' 0 >&2; exit 1`}, wantErr: "exit status 1: " + strings.Repeat("0", 200)},
		{name: "signal", step: shell.Run{Script: "kill -KILL $$"}, wantErr: "killed by signal KILL"},
		{name: "missing dir", step: shell.Run{Script: "true", Dir: "nope"}, wantErr: `dir "nope": no such directory: ` + filepath.Join(tmp, "nope")},
		{name: "dir is a file", step: shell.Run{Script: "true", Dir: "sub/f"}, wantErr: `dir "sub/f": ` + filepath.Join(tmp, "sub/f") + " is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := &steps.Input{Index: -1, Dir: tmp, Env: testEnv(), Log: new(lineLog)}
			got, err := tt.step.Run(context.Background(), in)
			got = text(got)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v; want none", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRunExitError(t *testing.T) {
	t.Parallel()
	step := shell.Run{Script: "echo first >&2; echo last >&2; exit 7"}
	_, err := step.Run(context.Background(), &steps.Input{Index: -1, Env: testEnv()})
	var exit *shell.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("got %T %v; want *shell.ExitError", err, err)
	}
	want := &shell.ExitError{Code: 7, StderrTail: "last"}
	if diff := cmp.Diff(want, exit); diff != "" {
		t.Errorf("ExitError (-want +got):\n%s", diff)
	}
	if got, want := err.Error(), "exit status 7: last"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	if steps.IsPermanent(err) {
		t.Error("got a permanent error; want an exit status to be retryable")
	}
}

func TestRunOutputLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 64 MiB")
	}
	t.Parallel()
	script := fmt.Sprintf("head -c %d /dev/zero", shell.MaxOutput+1)
	_, err := (&shell.Run{Script: steps.Script(script)}).Run(context.Background(), &steps.Input{Index: -1, Env: testEnv()})
	if want := "stdout exceeded 64 MiB"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got error %v; want %q", err, want)
	}
}

// TestRunEnv checks that the child sees Input.Environ() and nothing else.
func TestRunEnv(t *testing.T) {
	t.Setenv("FLOWRUN_TEST_LEAK", "leaked")
	step := shell.Run{Script: `printf '%s|%s|%s|%s' "$FOO" "$EXPR" "${ITEM-unset}" "${FLOWRUN_TEST_LEAK-unset}"`}
	got, err := step.Run(context.Background(), &steps.Input{Index: -1, Env: testEnv("FOO=bar"), Vars: []string{"EXPR=x"}})
	got = text(got)
	if err != nil {
		t.Fatal(err)
	}
	if want := "bar|x|unset|unset"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}

// TestRunWithoutPath checks that sh is found when the environment has no
// PATH.
func TestRunWithoutPath(t *testing.T) {
	t.Parallel()
	step := shell.Run{Script: `printf '%s' "$FOO"`}
	got, err := step.Run(context.Background(), &steps.Input{Index: -1, Env: []string{"FOO=bar"}})
	got = text(got)
	if err != nil {
		t.Fatal(err)
	}
	if got != "bar" {
		t.Errorf("got %q; want %q", got, "bar")
	}
}

// TestRunValueIsNotCode checks that a hostile item reaches the script as
// data: flowrun passes it in the environment and the script quotes it.
func TestRunValueIsNotCode(t *testing.T) {
	t.Parallel()
	const item = `$(touch pwned); echo "'` + "`touch pwned2`"
	tests := []struct{ name, script string }{
		{"ITEM", `printf '%s' "$ITEM"`},
		{"expression", `printf '%s' "${FLOWRUN_EXPR_0}"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			in := &steps.Input{Index: 0, Item: item, Dir: dir, Env: testEnv(), Vars: []string{"FLOWRUN_EXPR_0=" + item}}
			got, err := (&shell.Run{Script: steps.Script(tt.script)}).Run(context.Background(), in)
			got = text(got)
			if err != nil {
				t.Fatal(err)
			}
			if got != item {
				t.Errorf("got %q; want %q", got, item)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 0 {
				t.Errorf("got %d files in the working directory, first %q; want none", len(entries), entries[0].Name())
			}
		})
	}
}

func TestRunStderrToLog(t *testing.T) {
	t.Parallel()
	log := new(lineLog)
	step := shell.Run{Script: "echo one >&2; echo out; echo two >&2; printf three >&2"}
	got, err := step.Run(context.Background(), &steps.Input{Index: -1, Env: testEnv(), Log: log})
	got = text(got)
	if err != nil {
		t.Fatal(err)
	}
	if got != "out\n" {
		t.Errorf("got output %q; want %q", got, "out\n")
	}
	if diff := cmp.Diff([]string{"one\n", "two\n", "three\n"}, log.lines()); diff != "" {
		t.Errorf("log writes (-want +got):\n%s", diff)
	}
}

func TestRunValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		step    shell.Run
		wantErr string
	}{
		{name: "ok", step: shell.Run{Script: "true", Shell: "bash -e", KillGrace: 1}},
		{name: "empty script", step: shell.Run{Script: " \n"}, wantErr: "script is empty"},
		{name: "blank shell", step: shell.Run{Script: "true", Shell: " "}, wantErr: "shell is blank"},
		{name: "negative grace", step: shell.Run{Script: "true", KillGrace: -1}, wantErr: "kill_grace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, tt.step.Validate(), tt.wantErr)
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("got error %v; want none", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("got error %v; want one containing %q", err, want)
	}
}
