package exec

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/flowrun/flowrun/internal/proc"
	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
	_ "github.com/flowrun/flowrun/pkg/steps/shell"
)

// TestFailFastStopsChildProcesses runs real shell children: when item 0
// fails, the three running `sleep 30` children are stopped before Run
// returns, and the items still queued never start.
func TestFailFastStopsChildProcesses(t *testing.T) {
	dir := t.TempDir()
	src := `
version: 1
steps:
  - id: fan
    parallel: {items: "${{ 0..9 }}", workers: 4}
    run: |
      touch started-$INDEX
      if [ "$INDEX" = 0 ]; then
        while [ ! -e pid-1 ] || [ ! -e pid-2 ] || [ ! -e pid-3 ]; do sleep 0.01; done
        exit 1
      fi
      sleep 30 &
      echo $! > pid-$INDEX.tmp && mv pid-$INDEX.tmp pid-$INDEX
      wait
`
	file := filepath.Join(dir, "wf.yaml")
	if err := os.WriteFile(file, []byte(strings.TrimLeft(src, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	wf, ds := spec.Load(file, spec.Options{Registry: steps.Default})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	rep := Run(context.Background(), wf, Options{})
	fan := rep.Step("fan")
	if fan.Status != Failed || fan.Summary.Failed != 1 || fan.Summary.Cancelled != 9 {
		t.Fatalf("fan %s, summary %+v; want failed with 1 failed and 9 cancelled items", fan.Status, fan.Summary)
	}
	for i := 1; i <= 3; i++ {
		b, err := os.ReadFile(filepath.Join(dir, "pid-"+strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if proc.Alive(pid) {
			t.Errorf("item %d's child %d (sleep 30) outlived its cancelled step", i, pid)
		}
	}
	for i := 4; i < 10; i++ {
		if _, err := os.Stat(filepath.Join(dir, "started-"+strconv.Itoa(i))); err == nil {
			t.Errorf("item %d started after the failure", i)
		}
	}
}
