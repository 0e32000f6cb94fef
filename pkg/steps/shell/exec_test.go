package shell_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/flowrun/flowrun/pkg/steps"
	"github.com/flowrun/flowrun/pkg/steps/shell"
	"github.com/google/go-cmp/cmp"
)

func TestExec(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	script := filepath.Join(tmp, "sub", "hello.sh")
	if err := os.MkdirAll(filepath.Dir(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho hello \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env, err := exec.LookPath("env")
	if err != nil {
		t.Skip("no env program")
	}
	tests := []struct {
		name    string
		step    shell.Exec
		env     []string
		want    any
		wantErr string
	}{
		{name: "no shell", step: shell.Exec{Argv: []string{"printf", "%s|%s", "$(touch pwned)", "a b; echo c"}}, want: "$(touch pwned)|a b; echo c"},
		{name: "exact env", step: shell.Exec{Argv: []string{env}}, env: []string{"FOO=bar"}, want: "FOO=bar\n"},
		{name: "relative program", step: shell.Exec{Argv: []string{"./hello.sh", "x"}, Dir: "sub"}, want: "hello x\n"},
		{name: "path from env", step: shell.Exec{Argv: []string{"hello.sh", "y"}}, env: []string{"PATH=/nonexistent:" + filepath.Dir(script)}, want: "hello y\n"},
		{name: "not found", step: shell.Exec{Argv: []string{"flowrun-no-such-program"}}, wantErr: "executable file not found"},
		{name: "exit status", step: shell.Exec{Argv: []string{"sh", "-c", "echo bad >&2; exit 2"}}, wantErr: "exit status 2: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := &steps.Input{Index: -1, Dir: tmp, Env: tt.env, Log: new(lineLog)}
			if in.Env == nil {
				in.Env = testEnv()
			}
			got, err := tt.step.Run(context.Background(), in)
			got = text(got)
			checkErr(t, err, tt.wantErr)
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(tmp, "pwned")); !os.IsNotExist(err) {
		t.Errorf("got %v from stat pwned; want no such file", err)
	}
}

func TestExecNotFoundIsPermanent(t *testing.T) {
	t.Parallel()
	step := shell.Exec{Argv: []string{"flowrun-no-such-program"}}
	_, err := step.Run(context.Background(), &steps.Input{Index: -1, Env: testEnv()})
	if !steps.IsPermanent(err) {
		t.Errorf("got %v; want a permanent error", err)
	}
}

func TestExecValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		step    shell.Exec
		wantErr string
	}{
		{name: "ok", step: shell.Exec{Argv: []string{"true"}}},
		{name: "nil argv", step: shell.Exec{}, wantErr: "argv is empty"},
		{name: "empty argv", step: shell.Exec{Argv: []string{}}, wantErr: "argv is empty"},
		{name: "negative grace", step: shell.Exec{Argv: []string{"true"}, KillGrace: -1}, wantErr: "kill_grace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, tt.step.Validate(), tt.wantErr)
		})
	}
}
