package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func intp(i int) *int       { return &i }
func strp(s string) *string { return &s }

// readAll reads every record of the journal file name.
func readAll(t *testing.T, name string) []*Record {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []*Record
	if _, err := ReadJournal(f, name, func(r *Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestJournalRoundTrip(t *testing.T) {
	name := filepath.Join(t.TempDir(), "journal")
	w, err := OpenJournal(name)
	if err != nil {
		t.Fatal(err)
	}
	odd := "a\"b\\c\n\t\x00\x1f\u2028 é \xff<>&"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.BlockStart("fan", 3))
	must(w.Item(&ItemRecord{Step: "fan", Index: 0, Key: "k0", Status: "succeeded", Attempts: 1, Output: map[string]any{"n": int64(1) << 60}, DurationMS: 1.5}))
	must(w.Item(&ItemRecord{Step: "fan", Index: 1, Key: odd, Status: "failed", Attempts: 3, Error: odd, DurationMS: 0}))
	must(w.Item(&ItemRecord{Step: "fan", Index: 2, Key: "", Status: "cancelled"}))
	must(w.BlockEnd("fan", "failed", 3))
	must(w.Step(&StepRecord{ID: "one", Status: "succeeded", Output: "hello", Attempts: 1}))
	must(w.Step(&StepRecord{ID: "two", Status: "failed", Error: "boom", Attempts: 2}))
	must(w.Step(&StepRecord{ID: "three", Status: "succeeded", OutputWithheld: true, Attempts: 1}))
	must(w.Item(&ItemRecord{Step: "other", Index: 0, Key: "s", Status: "succeeded", Attempts: 1, OutputWithheld: true, DurationMS: 2}))
	must(w.RunEnd("failed", odd))
	must(w.Close())

	want := []*Record{
		{Type: TypeBlockStart, Step: "fan", Total: intp(3)},
		{Type: TypeItem, Step: "fan", Index: intp(0), Key: strp("k0"), Status: "succeeded", Attempts: 1, Output: json.RawMessage(`{"n":1152921504606846976}`), DurationMS: 1.5},
		{Type: TypeItem, Step: "fan", Index: intp(1), Key: strp(strings.ToValidUTF8(odd, "\ufffd")), Status: "failed", Attempts: 3, Error: strings.ToValidUTF8(odd, "\ufffd")},
		{Type: TypeItem, Step: "fan", Index: intp(2), Key: strp(""), Status: "cancelled"},
		{Type: TypeBlockEnd, Step: "fan", Status: "failed", Total: intp(3)},
		{Type: TypeStep, ID: "one", Status: "succeeded", Output: json.RawMessage(`"hello"`), Attempts: 1},
		{Type: TypeStep, ID: "two", Status: "failed", Error: "boom", Attempts: 2},
		{Type: TypeStep, ID: "three", Status: "succeeded", OutputWithheld: true, Attempts: 1},
		{Type: TypeItem, Step: "other", Index: intp(0), Key: strp("s"), Status: "succeeded", Attempts: 1, OutputWithheld: true, DurationMS: 2},
		{Type: TypeRun, Status: "failed", Error: strings.ToValidUTF8(odd, "\ufffd")},
	}
	if diff := cmp.Diff(want, readAll(t, name)); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestAppendStringMatchesJSON checks the hand-written string encoding
// against encoding/json: the same string must come back.
func TestAppendStringMatchesJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `"quoted" \back\`, "ctl \x00\x01\x07\x1f\x7f", "nl\r\n\t", "é ü 日本", "\xff\xfe bad", "\u2028\u2029", "<script>&", "a\xc3"} {
		var got string
		if err := json.Unmarshal(appendString(nil, s), &got); err != nil {
			t.Errorf("%q: encoded %s does not parse: %v", s, appendString(nil, s), err)
			continue
		}
		var want string
		enc, _ := json.Marshal(s)
		_ = json.Unmarshal(enc, &want)
		if got != want {
			t.Errorf("%q: read back %q, encoding/json gives %q", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("a\"\\\n\xff\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q encoded as %s: %v", s, b, err)
		}
		if bytes.ContainsAny(b, "\n\r") {
			t.Fatalf("%q encoded with a raw newline: %s", s, b)
		}
		var want string
		enc, _ := json.Marshal(s)
		_ = json.Unmarshal(enc, &want)
		if got != want {
			t.Fatalf("%q read back %q, encoding/json gives %q", s, got, want)
		}
	})
}

// TestJournalRefusesWhatCannotBeRead: an output JSON cannot hold is an
// error for that record only; the journal stays usable.
func TestJournalRefusesWhatCannotBeRead(t *testing.T) {
	name := filepath.Join(t.TempDir(), "journal")
	w, err := OpenJournal(name)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, tc := range []struct {
		name string
		rec  ItemRecord
	}{
		{"Inf duration", ItemRecord{Step: "s", Status: "succeeded", DurationMS: math.Inf(1)}},
		{"channel output", ItemRecord{Step: "s", Status: "succeeded", Output: make(chan int)}},
		{"huge output", ItemRecord{Step: "s", Status: "succeeded", Output: strings.Repeat("x", MaxRecord)}},
	} {
		if err := w.Item(&tc.rec); err == nil {
			t.Errorf("%s: journaled", tc.name)
		}
	}
	if err := w.Item(&ItemRecord{Step: "s", Key: "ok", Status: "succeeded"}); err != nil {
		t.Fatalf("journal unusable after a refused record: %v", err)
	}
	// NaN and ±Inf are journaled as strings, as reports show them
	// (steps.NonFinite).
	if err := w.Item(&ItemRecord{Step: "s", Key: "nan", Status: "succeeded", Output: map[string]any{"r": math.NaN()}}); err != nil {
		t.Fatalf("NaN output: %v", err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, name)
	if len(recs) != 2 || *recs[0].Key != "ok" || *recs[1].Key != "nan" {
		t.Fatalf("journal holds %d records, want the two good ones", len(recs))
	}
	if got := string(recs[1].Output); got != `{"r":"NaN"}` {
		t.Errorf("NaN output journaled as %s; want {\"r\":\"NaN\"}", got)
	}
}

// TestJournalConcurrent: many goroutines append at once; every record is
// whole and present, and each goroutine's records keep their order.
func TestJournalConcurrent(t *testing.T) {
	name := filepath.Join(t.TempDir(), "journal")
	w, err := OpenJournal(name)
	if err != nil {
		t.Fatal(err)
	}
	const workers, per = 8, 2000
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := range per {
				rec := ItemRecord{Step: fmt.Sprint("b", g), Index: i, Key: fmt.Sprint(i), Status: "succeeded", Attempts: 1}
				if i%7 == 0 {
					rec.Output = []any{"out", i}
				}
				if err := w.Item(&rec); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	next := map[string]int{}
	for _, r := range readAll(t, name) {
		if *r.Index != next[r.Step] {
			t.Fatalf("%s: index %d after %d", r.Step, *r.Index, next[r.Step]-1)
		}
		next[r.Step]++
	}
	for g := range workers {
		if n := next[fmt.Sprint("b", g)]; n != per {
			t.Errorf("b%d: %d records, want %d", g, n, per)
		}
	}
}

// countingFile is a journal file that counts writes and syncs and fails
// writes after failAfter bytes, writing what fits first, like a full disk.
type countingFile struct {
	mu            sync.Mutex
	data          []byte
	writes, syncs int
	failAfter     int // <0: never
	closed        bool
}

func (f *countingFile) Write(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	if f.failAfter >= 0 && len(f.data)+len(b) > f.failAfter {
		n := f.failAfter - len(f.data)
		f.data = append(f.data, b[:n]...)
		return n, syscall.ENOSPC
	}
	f.data = append(f.data, b...)
	return len(b), nil
}

func (f *countingFile) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.syncs++
	return nil
}

func (f *countingFile) Truncate(n int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.data = f.data[:n]
	return nil
}

func (f *countingFile) Close() error { f.closed = true; return nil }

func (f *countingFile) snapshot() ([]byte, int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]byte(nil), f.data...), f.writes, f.syncs
}

// TestJournalGroupCommit: items are batched — far fewer writes than
// records and never an fsync per item — and a step end syncs.
func TestJournalGroupCommit(t *testing.T) {
	f := &countingFile{failAfter: -1}
	w := newWriter("journal", f, 0)
	const n = 20000
	for i := range n {
		if err := w.Item(&ItemRecord{Step: "s", Index: i, Key: "k", Status: "succeeded"}); err != nil {
			t.Fatal(err)
		}
	}
	_, writes, syncs := f.snapshot()
	if writes > n/10 || syncs > writes {
		t.Errorf("%d items: %d writes, %d syncs; want batches", n, writes, syncs)
	}
	if err := w.Step(&StepRecord{ID: "x", Status: "succeeded"}); err != nil {
		t.Fatal(err)
	}
	data, _, syncs2 := f.snapshot()
	if syncs2 <= syncs || bytes.Count(data, []byte("\n")) != n+1 {
		t.Errorf("after Step: %d syncs (before %d), %d records; want synced, all written", syncs2, syncs, bytes.Count(data, []byte("\n")))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !f.closed {
		t.Error("file not closed")
	}
	if err := w.Item(&ItemRecord{Step: "s", Status: "succeeded"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Item after Close: %v, want ErrClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestJournalWritesWithoutBeingAsked: the background commit writes and
// syncs records no one flushed.
func TestJournalWritesWithoutBeingAsked(t *testing.T) {
	f := &countingFile{failAfter: -1}
	w := newWriter("journal", f, 0)
	defer w.Close()
	if err := w.Item(&ItemRecord{Step: "s", Key: "k", Status: "succeeded"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		data, _, syncs := f.snapshot()
		if len(data) > 0 && syncs > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("record not written and synced by the commit loop (%d bytes, %d syncs)", len(data), syncs)
		}
	}
}

// TestJournalFullDisk: a write error is sticky and returned, the partial
// batch is cut back, and what was written before stays readable.
func TestJournalFullDisk(t *testing.T) {
	f := &countingFile{failAfter: -1}
	w := newWriter("journal", f, 0)
	if err := w.Step(&StepRecord{ID: "before", Status: "succeeded"}); err != nil {
		t.Fatal(err)
	}
	good, _, _ := f.snapshot()
	f.mu.Lock()
	f.failAfter = len(good) + 30 // room for part of the next record
	f.mu.Unlock()
	for i := range 10 {
		_ = w.Item(&ItemRecord{Step: "s", Index: i, Key: "k", Status: "succeeded"})
	}
	err := w.Sync()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Sync on a full disk: %v, want ENOSPC", err)
	}
	if err := w.Item(&ItemRecord{Step: "s", Status: "succeeded"}); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Item after the failure: %v, want the sticky ENOSPC", err)
	}
	if err := w.Err(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Err: %v", err)
	}
	if err := w.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Close: %v, want the sticky ENOSPC", err)
	}
	data, _, _ := f.snapshot()
	if !bytes.Equal(data, good) {
		t.Errorf("journal after the failure:\n%s\nwant what was written before:\n%s", data, good)
	}
}

// TestOpenJournalCutsTornTail: appending to a journal whose last record
// is torn continues after the last whole record, so no damaged record
// ends up in the middle.
func TestOpenJournalCutsTornTail(t *testing.T) {
	name := filepath.Join(t.TempDir(), "journal")
	if err := os.WriteFile(name, []byte(`{"type":"step","id":"a","status":"succeeded"}`+"\n"+`{"type":"item","st`), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := OpenJournal(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Step(&StepRecord{ID: "b", Status: "succeeded"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, name)
	if len(recs) != 2 || recs[0].ID != "a" || recs[1].ID != "b" {
		t.Fatalf("records %+v, want steps a and b", recs)
	}
}

func TestOpenJournalRefusesDamage(t *testing.T) {
	name := filepath.Join(t.TempDir(), "journal")
	content := `{"type":"step","id":"a","status":"succeeded"}` + "\nGARBAGE\n" + `{"type":"step","id":"b","status":"succeeded"}` + "\n"
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := OpenJournal(name)
	var je *JournalError
	if !errors.As(err, &je) || je.Line != 2 || !strings.Contains(err.Error(), "journal:2: ") {
		t.Fatalf("OpenJournal of a damaged journal: %v, want journal:2: ...", err)
	}
	if data, _ := os.ReadFile(name); string(data) != content {
		t.Error("the damaged journal was changed")
	}
}

// slowSyncFile is a countingFile whose Sync blocks until released: a disk
// that takes its time to make data durable.
type slowSyncFile struct {
	countingFile
	entered chan struct{} // receives once a Sync has started
	release chan struct{} // closed to let Syncs finish
}

func (f *slowSyncFile) Sync() error {
	select {
	case f.entered <- struct{}{}:
	default:
	}
	<-f.release
	return f.countingFile.Sync()
}

// TestJournalWritesWhileSyncing: a slow fsync does not hold up the writes
// of the records appended meanwhile, so that a kill -9 during a slow
// fsync loses no more than the last flush interval's records.
func TestJournalWritesWhileSyncing(t *testing.T) {
	f := &slowSyncFile{countingFile: countingFile{failAfter: -1}, entered: make(chan struct{}, 1), release: make(chan struct{})}
	w := newWriter("journal", f, 0)
	defer func() {
		close(f.release)
		w.Close()
	}()
	if err := w.Item(&ItemRecord{Step: "s", Key: "first", Status: "succeeded"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.entered: // the commit loop is syncing "first", slowly
	case <-time.After(30 * time.Second):
		t.Fatal("the commit loop never synced")
	}
	if err := w.Item(&ItemRecord{Step: "s", Key: "second", Status: "succeeded"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		data, _, _ := f.snapshot()
		if bytes.Contains(data, []byte(`"second"`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a record appended during a slow fsync was not written until the fsync ended")
		}
	}
}
