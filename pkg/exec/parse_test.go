package exec

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/flowrun/flowrun/pkg/steps"
)

// TestParsedOutputBounded: an output whose parsed value would take more
// than the limit is an error naming the limit and how to raise it, found
// before it is parsed; never a value cut short.
func TestParsedOutputBounded(t *testing.T) {
	tiny := "[" + strings.Repeat(`{"a":1},`, 20000) + `{"a":1}]`
	lines := strings.Repeat("abcdefg\n", 20000)
	for _, tt := range []struct{ format, text, want string }{
		{"json", tiny, "output: json: 160009 bytes of JSON: the parsed value would take about 9.1 MiB of memory, more than the limit of 1 MiB (the limit for parsed outputs; raise it with --max-parsed-output"},
		{"lines", lines, "output: lines: 20000 lines: the parsed value would take about 781.2 KiB of memory, more than the limit of 512 KiB"},
	} {
		limit := int64(1 << 20)
		if tt.format == "lines" {
			limit = 512 << 10
		}
		_, err := parseOutput(tt.text, tt.format, limit)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v; want %q", tt.format, err, tt.want)
		}
		if _, err := parseOutput(tt.text, tt.format, 64<<20); err != nil {
			t.Errorf("%s under the default limit: %v", tt.format, err)
		}
	}
}

// TestLinesShareTheText: the lines of output: lines are substrings of the
// step's text, pieces included, not copies: a 64 MiB output is 64 MiB
// once, plus 32 bytes a line.
func TestLinesShareTheText(t *testing.T) {
	piece := []byte(strings.Repeat("line of output\n", 70000)) // about 1 MiB
	text := steps.NewText([][]byte{piece, bytes.Clone(piece)})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v, err := parseOutput(text, "lines", DefaultMaxParsed)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	got := v.([]any)
	if len(got) != 140000 || got[0] != "line of output" || got[139999] != "line of output" {
		t.Fatalf("%d lines, first %q", len(got), got[0])
	}
	first := unsafe.StringData(got[0].(string))
	if uintptr(unsafe.Pointer(first)) != uintptr(unsafe.Pointer(&piece[0])) {
		t.Error("the first line is a copy, not a substring of the output")
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 140000*lineCost+64<<10 {
		t.Errorf("parsing 140,000 lines allocated %d bytes; want at most %d, 32 a line", alloc, 140000*lineCost)
	}
}

// TestItemsFromBounded: jsonl items are bounded like parsed outputs, csv
// records by length and fields, and each error names the file and line.
func TestItemsFromBounded(t *testing.T) {
	for _, tt := range []struct{ name, file, content, want string }{
		{"jsonl item", "ids.jsonl", "{\"a\":1}\n[" + strings.Repeat(`{"a":1},`, 5000) + "1]\n", `ids.jsonl:2: step "fan": items_from: the parsed value would take about`},
		{"jsonl item nested too deep", "ids.jsonl", "{\"a\":1}\n" + strings.Repeat("[", 1001) + strings.Repeat("]", 1001) + "\n", `ids.jsonl:2: step "fan": items_from: JSON nested more than 1000 levels deep`},
		{"csv fields", "rows.csv", "a,b\n1,2\n" + strings.Repeat(",", maxCSVFields) + "\n", `rows.csv:3: step "fan": items_from: a csv record of more than 10000 fields`},
		{"csv header fields", "rows.csv", strings.Repeat("h,", maxCSVFields) + "h\n", `rows.csv:1: step "fan": items_from: a csv record of more than 10000 fields`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wf := loadFiles(t, map[string]string{tt.file: tt.content, "main.yaml": `
version: 1
steps:
  - id: fan
    parallel: {items_from: ` + tt.file + `, on_error: continue}
    probe: {}
`})
			rep := Run(context.Background(), wf, Options{MaxParsed: 100 << 10})
			if fan := rep.Step("fan"); fan.Status != Failed || !strings.Contains(fan.Error, tt.want) {
				t.Errorf("fan %s: %q; want failed: %s", fan.Status, fan.Error, tt.want)
			}
		})
	}
}

// TestCSVRecordLength: a csv field of more than maxLine bytes (here a
// lower bound) is an error, read a bounded piece at a time.
func TestCSVRecordLength(t *testing.T) {
	l := &csvLimit{r: strings.NewReader("a,b\n\"" + strings.Repeat("x\n", 600) + "\",2\n"), maxRecord: 1000, maxFields: 10}
	buf := make([]byte, 64)
	var err error
	for err == nil {
		_, err = l.Read(buf)
	}
	if le, ok := err.(*csvLimitError); !ok || le.line != 2 || le.msg != "a csv record longer than 1000 bytes" {
		t.Errorf("error %#v; want the record that starts on line 2", err)
	}
	ok := &csvLimit{r: strings.NewReader("a,b\n\"x,\ny\",2\n"), maxRecord: 1000, maxFields: 2}
	for err = nil; err == nil; {
		_, err = ok.Read(buf)
	}
	if err.Error() != "EOF" {
		t.Errorf("a quoted comma and newline: %v; want EOF", err)
	}
}

// TestStderrLineBounded: a child's stderr that never ends a line is
// written out in pieces, not buffered whole.
func TestStderrLineBounded(t *testing.T) {
	var out bytes.Buffer
	w := &prefixWriter{out: newLineWriter(&out), id: "s", index: -1}
	chunk := bytes.Repeat([]byte("x"), 1000)
	for range 1000 { // a million bytes, no newline
		w.Write(chunk)
		if len(w.buf) > maxLogLine {
			t.Fatalf("the partial line grew to %d bytes; want at most %d", len(w.buf), maxLogLine)
		}
	}
	w.Flush()
	if got := bytes.Count(out.Bytes(), []byte("x")); got != 1000*1000 {
		t.Errorf("%d bytes written; want all 1000000", got)
	}
	if n := bytes.Count(out.Bytes(), []byte("\n")); n != (1000*1000+maxLogLine-1)/maxLogLine {
		t.Errorf("%d lines; want pieces of %d bytes", n, maxLogLine)
	}
}
