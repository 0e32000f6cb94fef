package state

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// errEOF ends a Reader's records; it is io.EOF.
var errEOF = io.EOF

// JournalError is a damaged record in the middle of a journal: the journal
// cannot be trusted past it, so a resume is refused.
type JournalError struct {
	Name string // the journal's path
	Line int    // 1-based
	Err  error
}

func (e *JournalError) Error() string {
	return fmt.Sprintf("%s:%d: %v (the journal is damaged before its end; it cannot be resumed)", e.Name, e.Line, e.Err)
}

func (e *JournalError) Unwrap() error { return e.Err }

// Reader reads a journal's records in order.
//
// The last record is dropped, not returned, when it is torn: it has no
// trailing newline, or it does not parse (the writer died or the disk
// lost power mid-write). A record that does not parse with more records
// after it is a *JournalError: the file was damaged, not torn.
type Reader struct {
	name   string
	br     *bufio.Reader
	line   int
	offset int64 // bytes of the records returned so far
	torn   bool
	long   []byte
}

// NewReader reads the journal from r; name is used in errors.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{name: name, br: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next whole record, io.EOF after the last one, or an
// error (a *JournalError for a damaged record). The record is the
// caller's: the Reader does not reuse it.
func (r *Reader) Next() (*Record, error) {
	line, nl, err := r.readLine()
	if err != nil {
		return nil, err
	}
	r.line++
	if !nl {
		// No newline: the writer never finished this record.
		r.torn = true
		return nil, io.EOF
	}
	rec := new(Record)
	perr := parseRecord(line, rec)
	if perr == nil {
		r.offset += int64(len(line)) + 1
		return rec, nil
	}
	if _, err := r.br.Peek(1); errors.Is(err, io.EOF) {
		r.torn = true
		return nil, io.EOF
	}
	return nil, &JournalError{Name: r.name, Line: r.line, Err: perr}
}

// Offset is the number of bytes of the whole records returned so far: a
// writer appending to the journal continues from there.
func (r *Reader) Offset() int64 { return r.offset }

// Torn reports whether a torn last record was dropped.
func (r *Reader) Torn() bool { return r.torn }

// readLine returns the next line without its newline, and whether it had
// one; io.EOF when there is nothing left.
func (r *Reader) readLine() ([]byte, bool, error) {
	r.long = r.long[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		switch {
		case err == nil:
			if len(r.long) == 0 {
				return chunk[:len(chunk)-1], true, nil
			}
			r.long = append(r.long, chunk[:len(chunk)-1]...)
			return r.long, true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			r.long = append(r.long, chunk...)
			if len(r.long) >= MaxRecord {
				return nil, false, &JournalError{Name: r.name, Line: r.line + 1, Err: fmt.Errorf("record longer than %d bytes", MaxRecord)}
			}
		case errors.Is(err, io.EOF):
			r.long = append(r.long, chunk...)
			if len(r.long) == 0 {
				return nil, false, io.EOF
			}
			return r.long, false, nil
		default:
			return nil, false, fmt.Errorf("%s: %w", r.name, err)
		}
	}
}

// fastPath switches parseFast on; benchmarks switch it off for a baseline.
var fastPath = true

// parseRecord decodes one line: exactly one JSON object with the fields
// its type requires.
func parseRecord(line []byte, rec *Record) error {
	if len(line) == 0 || line[0] != '{' {
		return errors.New("not a JSON object")
	}
	if fastPath && parseFast(line, rec) {
		return rec.check()
	}
	*rec = Record{}
	if err := json.Unmarshal(line, rec); err != nil {
		return fmt.Errorf("invalid record: %v", err)
	}
	return rec.check()
}

// ReadJournal reads every whole record of the journal in r, calling fn for
// each in order; it stops at fn's first error and returns it. It returns
// the offset after the last whole record.
func ReadJournal(r io.Reader, name string, fn func(*Record) error) (int64, error) {
	rd := NewReader(r, name)
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return rd.Offset(), nil
		}
		if err != nil {
			return rd.Offset(), err
		}
		if err := fn(rec); err != nil {
			return rd.Offset(), err
		}
	}
}
