package state

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newRun(id, workflow string, started time.Time) *Run {
	return &Run{ID: id, FlowrunVersion: "test", Workflow: workflow, WorkflowSHA256: HashBytes([]byte("wf")),
		Callees: map[string]string{"lib/a.yaml": HashBytes([]byte("a"))}, Inputs: map[string]any{"n": 1}, StartedAt: started}
}

func TestCreateFinishResume(t *testing.T) {
	d := New(filepath.Join(t.TempDir(), "state"))
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s, err := d.Create(newRun("abc123", "/w/wf.yaml", start))
	if err != nil {
		t.Fatal(err)
	}
	dir := d.RunDir("abc123")
	for name, mode := range map[string]os.FileMode{RunFile: 0o600, JournalFile: 0o600, LockFile: 0o600, "": 0o700} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, mode %v; want %v", name, err, fi.Mode().Perm(), mode)
		}
	}
	// A second process (here: a second lock) cannot resume it meanwhile.
	if _, _, err := d.Resume("abc123"); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid ") {
		t.Fatalf("Resume of a running run: %v, want ErrLocked naming the pid", err)
	}
	in, err := d.Get("abc123")
	if err != nil || in.Status != StatusRunning {
		t.Fatalf("Get while running: %+v, %v", in, err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Journal.BlockStart("fan", 3))
	must(s.Journal.Item(&ItemRecord{Step: "fan", Index: 0, Key: "a", Status: "succeeded", Attempts: 1}))
	must(s.Journal.Item(&ItemRecord{Step: "fan", Index: 1, Key: "b", Status: "failed", Attempts: 1}))
	must(s.Finish(StatusFailed, "fan failed", nil, func(w io.Writer) error {
		_, err := io.WriteString(w, `{"status":"failed"}`+"\n")
		return err
	}))
	must(s.Close())

	in, err = d.Get("abc123")
	if err != nil {
		t.Fatal(err)
	}
	if in.Status != StatusFailed || in.Run.Error != "fan failed" || in.Items != (Counts{OK: 1, Failed: 1, Pending: 1}) || in.Run.EndedAt.IsZero() {
		t.Errorf("after Finish: %+v %+v", in, in.Run)
	}
	if in.Run.Callees["lib/a.yaml"] == "" || in.Run.Format != FormatVersion || !in.Run.StartedAt.Equal(start) {
		t.Errorf("run.json lost fields: %+v", in.Run)
	}
	rc, err := d.Report("abc123")
	must(err)
	var rep map[string]any
	must(json.NewDecoder(rc).Decode(&rep))
	rc.Close()
	if rep["status"] != "failed" {
		t.Errorf("report.json: %v", rep)
	}

	// A torn tail, as a kill -9 mid-write would leave.
	jf, err := os.OpenFile(filepath.Join(dir, JournalFile), os.O_APPEND|os.O_WRONLY, 0)
	must(err)
	_, err = jf.WriteString(`{"type":"item","step":"fan","ind`)
	must(err)
	must(jf.Close())

	s2, rp, err := d.Resume("abc123")
	must(err)
	if s2.Run.Resumes != 1 || s2.Run.Status != StatusRunning || !s2.Run.EndedAt.IsZero() || s2.Run.Items != nil {
		t.Errorf("resumed run.json: %+v", s2.Run)
	}
	if it, ok := rp.Block("fan").Item("b"); !ok || it.Status != "failed" {
		t.Errorf("replay: item b = %+v, %v", it, ok)
	}
	must(s2.Journal.Item(&ItemRecord{Step: "fan", Index: 1, Key: "b", Status: "succeeded", Attempts: 1}))
	must(s2.Journal.Item(&ItemRecord{Step: "fan", Index: 2, Key: "c", Status: "succeeded", Attempts: 1}))
	must(s2.Finish(StatusSucceeded, "", &Counts{OK: 3}, nil))
	must(s2.Close())

	f, err := os.Open(filepath.Join(dir, JournalFile))
	must(err)
	rp, _, err = LoadReplay(f, "journal")
	f.Close()
	must(err)
	if it, _ := rp.Block("fan").Item("b"); it.Status != "succeeded" || it.Attempts != 2 {
		t.Errorf("after resume: b = %+v, want succeeded in 2 attempts", it)
	}
	in, _ = d.Get("abc123")
	if in.Status != StatusSucceeded || in.Items != (Counts{OK: 3}) || in.Run.Resumes != 1 {
		t.Errorf("after the resume: %+v %+v", in, in.Run)
	}
}

func TestCreateRefuses(t *testing.T) {
	d := New(t.TempDir())
	s, err := d.Create(newRun("dup", "/w", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range []string{"dup", "../x", "a/b", ".hidden"} {
		if _, err := d.Create(newRun(id, "/w", time.Now())); err == nil {
			t.Errorf("Create(%q) succeeded", id)
		}
	}
	s2, err := d.Create(&Run{Workflow: "/w"})
	if err != nil || len(s2.Run.ID) != 12 || s2.Run.StartedAt.IsZero() {
		t.Fatalf("Create with no id: %+v, %v", s2, err)
	}
	s2.Close()
}

func TestResumeRefuses(t *testing.T) {
	d := New(t.TempDir())
	if _, _, err := d.Resume("nope"); err == nil || !strings.Contains(err.Error(), "no run nope") {
		t.Errorf("Resume of an unknown run: %v", err)
	}
	s, err := d.Create(newRun("dmg", "/w", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	name := filepath.Join(d.RunDir("dmg"), JournalFile)
	content := recA + "\nbroken\n" + recC + "\n"
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Resume("dmg"); err == nil || !strings.Contains(err.Error(), "journal:2: ") {
		t.Fatalf("Resume of a damaged journal: %v", err)
	}
	in, _ := d.Get("dmg")
	if in.Run.Resumes != 0 {
		t.Error("a refused resume counted")
	}
	if data, _ := os.ReadFile(name); string(data) != content {
		t.Error("a refused resume changed the journal")
	}
	// The refused resume released the lock.
	lk, err := lockRun(d.RunDir("dmg"))
	if err != nil {
		t.Fatalf("lock after a refused resume: %v", err)
	}
	lk.Release()
}

// TestLockReleasedOnKill: a process killed with -9 while holding a run's
// lock leaves it free for the resume.
func TestLockReleasedOnKill(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FLOWRUN_TEST_HOLD_LOCK="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "locked\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q", line)
	}
	if _, err := lockRun(dir); !errors.Is(err, ErrLocked) {
		t.Errorf("lock held by another process: %v, want ErrLocked", err)
	}
	if !held(dir) {
		t.Error("held: false while another process holds it")
	}
	cmd.Process.Kill()
	cmd.Wait()
	lk, err := lockRun(dir)
	if err != nil {
		t.Fatalf("lock after the holder was killed: %v", err)
	}
	if held(dir) {
		// held probes from a new descriptor: our own exclusive lock counts.
		lk.Release()
	} else {
		lk.Release()
		t.Error("held: false while this process holds it")
	}
	if held(dir) {
		t.Error("held after Release")
	}
}

func TestCheck(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		ok         bool
	}{
		{"new", filepath.Join(tmp, "a", "b"), true},
		{"existing", tmp, true},
		{"a file", file, false},
		{"under a file", filepath.Join(file, "state"), false},
	} {
		err := New(tc.path).Check()
		if (err == nil) != tc.ok {
			t.Errorf("%s: Check = %v", tc.name, err)
		}
		if err != nil && (!strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), "--state-dir")) {
			t.Errorf("%s: %v: want the path and what to do", tc.name, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(tmp, "runs")); len(entries) != 0 {
		t.Errorf("Check left %v behind", entries)
	}
}

func TestSplitInputs(t *testing.T) {
	in := map[string]any{"user": "ann", "token": "s3cret"}
	secret := func(n string) bool { return n == "token" }
	hash := func(n string, v any) (string, error) { return "h(" + n + ")", nil }
	plain, hashed, err := SplitInputs(in, secret, hash)
	if err != nil || len(plain) != 1 || plain["user"] != "ann" || hashed["token"] != "h(token)" {
		t.Errorf("SplitInputs = %v, %v, %v", plain, hashed, err)
	}
	if _, _, err := SplitInputs(in, secret, nil); err == nil {
		t.Error("a secret input without a hash function was accepted")
	}
	if _, _, err := SplitInputs(in, secret, func(string, any) (string, error) { return "", errors.New("no key") }); err == nil {
		t.Error("a hash error was dropped")
	}
	if plain, hashed, _ := SplitInputs(in, nil, nil); len(plain) != 2 || hashed != nil {
		t.Errorf("no secrets: %v, %v", plain, hashed)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f.json")
	for _, content := range []string{"one", "two, longer"} {
		if err := writeFileAtomic(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(name); string(data) != content {
			t.Errorf("read %q, want %q", data, content)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temp files left: %v", entries)
	}
	if err := writeFileAtomic(filepath.Join(dir, "missing", "f"), nil, 0o600); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

func TestReadRunRefuses(t *testing.T) {
	d := New(t.TempDir())
	for _, tc := range []struct{ name, content, err string }{
		{"newer format", `{"format":99,"id":"r"}`, "format 99"},
		{"wrong id", `{"format":1,"id":"other"}`, `holds run "other"`},
		{"garbage", `{`, "unexpected EOF"},
	} {
		dir := d.RunDir("r")
		os.MkdirAll(dir, 0o700)
		os.WriteFile(filepath.Join(dir, RunFile), []byte(tc.content), 0o600)
		_, err := readRun(dir)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		}
	}
	fifo := d.RunDir("f")
	os.MkdirAll(fifo, 0o700)
	if err := mkfifo(filepath.Join(fifo, RunFile)); err == nil {
		if _, err := readRun(fifo); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("FIFO run.json: %v", err)
		}
	}
}

// TestResumeWithoutJournal: a process killed after writing run.json but
// before creating the journal leaves a run that resumes with nothing
// journaled, rather than one that can never be resumed.
func TestResumeWithoutJournal(t *testing.T) {
	d := New(t.TempDir())
	s, err := d.Create(newRun("nojournal", "/w", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(d.RunDir("nojournal"), JournalFile)); err != nil {
		t.Fatal(err)
	}
	s, rp, err := d.Resume("nojournal")
	if err != nil {
		t.Fatalf("Resume: %v", err)
	}
	defer s.Close()
	if rp.Records != 0 || len(rp.Blocks()) != 0 || s.Run.Resumes != 1 {
		t.Errorf("replay %+v, resumes %d; want an empty journal, one resume", rp, s.Run.Resumes)
	}
	if err := s.Journal.RunEnd(StatusSucceeded, ""); err != nil {
		t.Errorf("journaling after the resume: %v", err)
	}
}

// TestCreateRefusesUnreadableRun: inputs whose run.json would be larger
// than what is read back (here nested 3,000 deep: the indentation grows
// as the square of the depth) are refused when the run is created,
// rather than recorded as a run that lists as unknown and cannot resume.
func TestCreateRefusesUnreadableRun(t *testing.T) {
	d := New(t.TempDir())
	var deep any = 1
	for range 3000 {
		deep = []any{deep}
	}
	r := newRun("deep", "/w", time.Now())
	r.Inputs = map[string]any{"x": deep}
	if s, err := d.Create(r); err == nil || !strings.Contains(err.Error(), "flowrun reads back with room for the run's end") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Create: %v; want run.json refused for its size", err)
	}
	// Just within the start's limit, a run still ends, its long error
	// cut, and reads back.
	r = newRun("ok", "/w", time.Now())
	r.Inputs = map[string]any{"x": strings.Repeat("x", maxRunFile-runFileHeadroom-1024)}
	s, err := d.Create(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.End(StatusFailed, strings.Repeat("é", 1<<20), &Counts{}); err != nil {
		t.Fatalf("End with a long error: %v", err)
	}
	s.Close()
	in, err := d.Get("ok")
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Run.Error) > maxRunError+8 || !strings.HasSuffix(in.Run.Error, "é …") {
		t.Errorf("error kept in run.json: %d bytes ending %q; want it cut at a character to %d", len(in.Run.Error), in.Run.Error[len(in.Run.Error)-8:], maxRunError)
	}
}
