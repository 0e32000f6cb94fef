package state

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// seed records finished runs: id, workflow, status, start offset in days.
func seed(t *testing.T, d *Dir, runs ...[4]any) {
	t.Helper()
	for _, r := range runs {
		s, err := d.Create(newRun(r[0].(string), r[1].(string), t0.AddDate(0, 0, r[3].(int))))
		if err != nil {
			t.Fatal(err)
		}
		if st := r[2].(string); st != StatusRunning {
			if err := s.Finish(st, "", nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func ids(infos []*Info) []string {
	var out []string
	for _, in := range infos {
		out = append(out, in.ID)
	}
	return out
}

func TestList(t *testing.T) {
	d := New(filepath.Join(t.TempDir(), "state"))
	if infos, err := d.List(); err != nil || len(infos) != 0 {
		t.Fatalf("List of a missing directory: %v, %v", infos, err)
	}
	seed(t, d,
		[4]any{"aaa111", "/w/a.yaml", StatusSucceeded, 0},
		[4]any{"bbb222", "/w/a.yaml", StatusFailed, 2},
		[4]any{"ccc333", "/w/b.yaml", StatusRunning, 1}, // died: never finished
	)
	// A run folder without a readable run.json is listed, with the error.
	if err := os.MkdirAll(d.RunDir("broken"), 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(d.RunDir("broken"), t0.AddDate(0, 0, -5), t0.AddDate(0, 0, -5))
	// Folders that are not runs are ignored.
	os.MkdirAll(filepath.Join(d.Path(), "runs", ".tmp"), 0o700)
	os.WriteFile(filepath.Join(d.Path(), "runs", "file"), nil, 0o600)

	infos, err := d.List()
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(infos); !slices.Equal(got, []string{"bbb222", "ccc333", "aaa111", "broken"}) {
		t.Fatalf("List order %v, want newest first", got)
	}
	for _, tc := range []struct {
		i      int
		status string
		err    bool
	}{
		{0, StatusFailed, false}, {1, StatusInterrupted, false}, {2, StatusSucceeded, false}, {3, "unknown", true},
	} {
		if in := infos[tc.i]; in.Status != tc.status || (in.Err != nil) != tc.err {
			t.Errorf("%s: status %q, err %v; want %q, error %v", in.ID, in.Status, in.Err, tc.status, tc.err)
		}
	}
	if in := infos[0]; in.Duration(t0) <= 0 {
		t.Errorf("duration of a finished run: %v", in.Duration(t0))
	}
}

func TestResolve(t *testing.T) {
	d := New(t.TempDir())
	if _, err := d.Resolve("x"); err == nil || !strings.Contains(err.Error(), "holds no runs") {
		t.Errorf("empty dir: %v", err)
	}
	seed(t, d, [4]any{"2f9d166581ac", "/w", StatusFailed, 0}, [4]any{"2f9e00000000", "/w", StatusFailed, 1}, [4]any{"77aa00000000", "/w", StatusFailed, 2})
	for _, tc := range []struct{ in, want, err string }{
		{"2f9d166581ac", "2f9d166581ac", ""},
		{"2f9d", "2f9d166581ac", ""},
		{"77", "77aa00000000", ""},
		{"2f9", "", "ambiguous: it starts 2f9d166581ac, 2f9e00000000"},
		{"2f9d166581ad", "", "did you mean 2f9d166581ac?"},
		{"zzzzzz", "", `no run "zzzzzz"`},
		{"", "", "no run"},
		{"../x", "", "no run"},
	} {
		got, err := d.Resolve(tc.in)
		if got != tc.want || (tc.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Resolve(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestLatestUnfinished(t *testing.T) {
	dir := t.TempDir()
	wf := filepath.Join(dir, "wf.yaml")
	d := New(filepath.Join(dir, "state"))
	seed(t, d,
		[4]any{"old", wf, StatusFailed, 0},
		[4]any{"mid", wf, StatusRunning, 1},
		[4]any{"new", wf, StatusSucceeded, 2},
		[4]any{"other", filepath.Join(dir, "other.yaml"), StatusFailed, 3},
	)
	in, err := d.LatestUnfinished(wf)
	if err != nil || in.ID != "mid" {
		t.Fatalf("LatestUnfinished = %v, %v; want mid", in, err)
	}
	t.Chdir(dir)
	if in, err := d.LatestUnfinished("wf.yaml"); err != nil || in.ID != "mid" {
		t.Errorf("relative path: %v, %v", in, err)
	}
	if _, err := d.LatestUnfinished(filepath.Join(dir, "none.yaml")); err == nil {
		t.Error("a workflow with no runs has an unfinished one")
	}
}

func TestPrune(t *testing.T) {
	now := t0.AddDate(0, 0, 100)
	for _, tc := range []struct {
		name      string
		keep      int
		olderThan time.Duration
		left      []string
	}{
		{"keep 2", 2, 0, []string{"r4", "r3"}},
		{"keep 0", 0, 0, []string{"busy"}},
		{"older than 65 days", -1, 65 * 24 * time.Hour, []string{"r4", "r3", "r2"}},
		{"keep 1 and older than 65 days", 1, 65 * 24 * time.Hour, []string{"r4", "r3", "r2"}},
		{"keep 3 and older than 1 day", 3, 24 * time.Hour, []string{"r4", "r3", "r2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := New(t.TempDir())
			seed(t, d, [4]any{"r1", "/w", StatusSucceeded, 0}, [4]any{"r2", "/w", StatusFailed, 40},
				[4]any{"r3", "/w", StatusFailed, 80}, [4]any{"r4", "/w", StatusFailed, 99})
			// A run in use is never pruned.
			busy, err := d.Create(newRun("busy", "/w", t0.AddDate(0, 0, -10)))
			if err != nil {
				t.Fatal(err)
			}
			defer busy.Close()
			if _, err := d.Prune(tc.keep, tc.olderThan, now); err != nil {
				t.Fatal(err)
			}
			infos, _ := d.List()
			left := slices.DeleteFunc(ids(infos), func(s string) bool { return s == "busy" })
			if tc.name == "keep 0" {
				left = ids(infos)
			}
			if !slices.Equal(left, tc.left) {
				t.Errorf("left %v, want %v", left, tc.left)
			}
			if _, err := os.Stat(d.RunDir("busy")); err != nil {
				t.Errorf("the run in use was pruned: %v", err)
			}
		})
	}
	if _, err := New(t.TempDir()).Prune(-1, 0, now); err == nil {
		t.Error("Prune with no limit deleted everything")
	}
}

func TestParseAge(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"30d", 30 * 24 * time.Hour, false},
		{"2w", 14 * 24 * time.Hour, false},
		{"12h", 12 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"0d", 0, true},
		{"-1d", 0, true},
		{"d", 0, true},
		{"", 0, true},
		{"1y", 0, true},
		{"99999999999999d", 0, true},
		{"-5h", 0, true},
	} {
		got, err := ParseAge(tc.in)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("ParseAge(%q) = %v, %v", tc.in, got, err)
		}
	}
}
