package exec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/pkg/steps"
)

func TestLogTail(t *testing.T) {
	lines := func(from, to int) []string {
		var out []string
		for i := from; i <= to; i++ {
			out = append(out, fmt.Sprintf("line %d", i))
		}
		return out
	}
	long := strings.Repeat("x", 3000)
	tests := []struct {
		name  string
		write []string
		want  string
	}{
		{"nothing", nil, ""},
		{"few lines", lines(1, 3), "line 1\nline 2\nline 3"},
		{"last ten lines", lines(1, 25), strings.Join(lines(16, 25), "\n")},
		{"a huge line is cut to its end", []string{long}, long[len(long)-tailBytes+1:]},
		{"many bytes then a short line", append(lines(1, 500), "end"), strings.Join(append(lines(492, 500), "end"), "\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tail logTail
			defer tail.release()
			for _, l := range tt.write {
				tail.add([]byte(l + "\n"))
			}
			if got := tail.String(); got != tt.want {
				t.Errorf("tail = %q; want %q", got, tt.want)
			}
		})
	}
}

// chatty writes lines to its log, then fails if asked to.
type chatty struct {
	Lines int  `yaml:"lines"`
	Fail  bool `yaml:"fail"`
}

func (c *chatty) Run(_ context.Context, in *steps.Input) (any, error) {
	for i := range c.Lines {
		fmt.Fprintf(in.Log, "item %d says %d\n", in.Index, i)
	}
	if c.Fail {
		return nil, errors.New("chatty failed")
	}
	return "ok", nil
}

func TestFailedItemsKeepTheirLogTail(t *testing.T) {
	reg := registry()
	reg.Register(steps.Info{Type: "chatty", New: func() steps.Step { return new(chatty) }})
	src := `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..3 }}", workers: 2, on_error: continue}
    chatty: {lines: 12, fail: "${{ item == 2 }}"}
`
	for _, quiet := range []bool{false, true} {
		t.Run(fmt.Sprintf("quiet=%v", quiet), func(t *testing.T) {
			var log bytes.Buffer
			rep := Run(context.Background(), loadWith(t, reg, src), Options{Log: &log, QuietItems: quiet})
			fan := rep.Step("fan")
			want := "item 2 says 2\nitem 2 says 3\nitem 2 says 4\nitem 2 says 5\nitem 2 says 6\nitem 2 says 7\nitem 2 says 8\nitem 2 says 9\nitem 2 says 10\nitem 2 says 11"
			for i, r := range fan.Results {
				switch {
				case i == 2 && r.LogTail != want:
					t.Errorf("results[2].LogTail = %q; want %q", r.LogTail, want)
				case i != 2 && r.LogTail != "":
					t.Errorf("results[%d].LogTail = %q; want none (it succeeded)", i, r.LogTail)
				}
			}
			got, wantLines := strings.Count(log.String(), "\n"), 4*12
			if quiet {
				wantLines = 0
			}
			if got != wantLines {
				t.Errorf("Log got %d lines; want %d", got, wantLines)
			}
		})
	}
}
