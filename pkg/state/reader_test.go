package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	recA = `{"type":"step","id":"a","status":"succeeded","attempts":1,"output":"x"}`
	recB = `{"type":"item","step":"fan","index":0,"key":"k0","status":"succeeded","attempts":1,"duration_ms":0.5}`
	recC = `{"type":"run","status":"failed","error":"boom"}`
)

// readString reads a journal from a string: the ids/steps of its records,
// whether a tail was dropped, and the error.
func readString(s string) (n int, off int64, torn bool, err error) {
	rd := NewReader(strings.NewReader(s), "runs/x/journal")
	for {
		_, err = rd.Next()
		if errors.Is(err, io.EOF) {
			return n, rd.Offset(), rd.Torn(), nil
		}
		if err != nil {
			return n, rd.Offset(), rd.Torn(), err
		}
		n++
	}
}

func TestReader(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		records int
		torn    bool
		err     string // substring of the error; "" for none
	}{
		{"empty", "", 0, false, ""},
		{"whole", recA + "\n" + recB + "\n" + recC + "\n", 3, false, ""},
		{"torn: no newline", recA + "\n" + recB + "\n" + recC, 2, true, ""},
		{"torn: half a record", recA + "\n" + recB[:20], 1, true, ""},
		{"torn: unparsable last line", recA + "\n" + recB[:20] + "\n", 1, true, ""},
		{"torn: zeros after a power loss", recA + "\n\x00\x00\x00\x00", 1, true, ""},
		{"torn: lone newline", recA + "\n\n", 1, true, ""},
		{"damaged middle", recA + "\n" + recB[:20] + "\n" + recC + "\n", 1, false, "runs/x/journal:2: invalid record"},
		{"blank middle line", recA + "\n\n" + recC + "\n", 1, false, "journal:2: not a JSON object"},
		{"unknown type", `{"type":"bogus"}` + "\n" + recA + "\n", 0, false, `journal:1: unknown record type "bogus"`},
		{"missing key", `{"type":"item","step":"s","index":0,"status":"succeeded"}` + "\n" + recA + "\n", 0, false, "journal:1: item record without key"},
		{"negative index", `{"type":"item","step":"s","index":-1,"key":"","status":"succeeded"}` + "\n" + recA + "\n", 0, false, "without index"},
		{"negative attempts", `{"type":"step","id":"s","status":"failed","attempts":-2}` + "\n" + recA + "\n", 0, false, "negative attempts"},
		{"two values on a line", recA + recA + "\n" + recC + "\n", 0, false, "journal:1: invalid record"},
		{"array", "[1]\n" + recA + "\n", 0, false, "journal:1: not a JSON object"},
		{"wrong field type", `{"type":"step","id":1,"status":"x"}` + "\n" + recA + "\n", 0, false, "journal:1: invalid record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, _, torn, err := readString(tc.in)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
			if n != tc.records || torn != tc.torn {
				t.Errorf("%d records, torn %v; want %d, %v", n, torn, tc.records, tc.torn)
			}
		})
	}
}

func TestReaderLongRecord(t *testing.T) {
	long := `{"type":"step","id":"a","status":"succeeded","output":"` + strings.Repeat("x", 300<<10) + `"}`
	n, off, _, err := readString(long + "\n" + recC + "\n")
	if err != nil || n != 2 || off != int64(len(long)+len(recC)+2) {
		t.Fatalf("%d records to offset %d, %v; want 2 records, all read", n, off, err)
	}
}

// sampleJournal is a journal of every record type, with outputs, escapes
// and a long line.
func sampleJournal() string {
	return strings.Join([]string{
		`{"type":"block_start","step":"fan","total":3}`,
		`{"type":"item","step":"fan","index":0,"key":"a\n\"b","status":"succeeded","attempts":1,"output":{"x":[1,2,{"y":null}]},"duration_ms":1.25}`,
		`{"type":"item","step":"fan","index":1,"key":"1","status":"failed","attempts":3,"error":"exit status 1 \u2028 é","duration_ms":10}`,
		`{"type":"item","step":"fan","index":2,"key":"2","status":"succeeded","attempts":1,"output":"` + strings.Repeat("o", 5000) + `","duration_ms":0}`,
		`{"type":"block_end","step":"fan","status":"failed","total":3}`,
		recA,
		recC,
	}, "\n") + "\n"
}

// TestReaderTruncatedAtEveryOffset: a journal cut anywhere (a kill -9 or a
// power loss mid-write) reads as exactly the whole records before the cut,
// never an error, and a writer would continue right after them.
func TestReaderTruncatedAtEveryOffset(t *testing.T) {
	full := sampleJournal()
	for cut := 0; cut <= len(full); cut++ {
		prefix := full[:cut]
		whole := strings.Count(prefix, "\n")
		n, off, _, err := readString(prefix)
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if n != whole || off != int64(strings.LastIndex(prefix, "\n")+1) {
			t.Fatalf("cut at %d: %d records to offset %d, want %d to %d", cut, n, off, whole, strings.LastIndex(prefix, "\n")+1)
		}
	}
}

func FuzzJournalRead(f *testing.F) {
	f.Add([]byte(sampleJournal()))
	f.Add([]byte(recA + "\n" + recB[:30]))
	f.Add([]byte(recA + "\nx\n" + recC + "\n"))
	f.Add([]byte("\x00\n\n{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := NewReader(bytes.NewReader(data), "journal")
		n := 0
		for {
			rec, err := rd.Next()
			if err != nil {
				break
			}
			if rec.check() != nil {
				t.Fatalf("returned a record that does not check: %+v", rec)
			}
			n++
		}
		if off := rd.Offset(); off > int64(len(data)) || off > 0 && data[off-1] != '\n' {
			t.Fatalf("offset %d does not end a line of %d bytes", off, len(data))
		}
		// What was read back whole reads back the same on its own.
		if m, off, torn, err := readString(string(data[:rd.Offset()])); err != nil || m != n || torn || off != rd.Offset() {
			t.Fatalf("the whole records re-read as %d records (%v, torn %v), want %d", m, err, torn, n)
		}
		// Replaying never panics either.
		_, _, _ = LoadReplay(bytes.NewReader(data), "journal")
	})
}

// FuzzParseFast: when the fast path accepts a line, encoding/json reads
// the same record from it.
func FuzzParseFast(f *testing.F) {
	for _, l := range strings.Split(sampleJournal(), "\n") {
		f.Add([]byte(l))
	}
	f.Add([]byte(`{"type":"item","index":01,"duration_ms":1.}`))
	f.Add([]byte(`{"type":"item","key":"é","output":[1,{"a":"\""}] , "total": -0}`))
	f.Add([]byte(`{"type":"item","step":"s","index":0,"key":"k","status":"succeeded","attempts":1,"output_withheld":true,"duration_ms":2}`))
	f.Add([]byte(`{"type":"step","id":"s","status":"succeeded","output_withheld":truex}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var fast, slow Record
		if !parseFast(line, &fast) {
			return
		}
		if err := json.Unmarshal(line, &slow); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json: %v", line, err)
		}
		if !cmp.Equal(fast, slow) {
			t.Fatalf("%q: fast %+v, encoding/json %+v", line, fast, slow)
		}
	})
}

func TestParseFastAcceptsWhatTheWriterWrites(t *testing.T) {
	for _, l := range strings.Split(strings.TrimSpace(sampleJournal()), "\n") {
		if strings.Contains(l, `\`) {
			continue // escapes go the slow way
		}
		var rec Record
		if !parseFast([]byte(l), &rec) {
			t.Errorf("fast path refused %s", l)
		}
	}
}
