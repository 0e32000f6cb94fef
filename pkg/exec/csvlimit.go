package exec

import (
	"fmt"
	"io"

	"github.com/flowrun/flowrun/pkg/steps"
)

// maxCSVFields bounds the fields of a csv record: each becomes a key of
// the item's object, and a 16 MiB line of commas would otherwise be
// millions of them.
const maxCSVFields = 10_000

// csvLimit reads a csv file for encoding/csv, which has no bound of its
// own, and fails the read once a record passes maxRecord bytes or
// maxFields fields, so that a 400 MB field costs an error, not gigabytes.
// It finds record ends as csv does: a newline outside quotes (a quote
// inside a quoted field is doubled, so counting quotes suffices).
type csvLimit struct {
	r                    io.Reader
	maxRecord, maxFields int
	quoted               bool
	bytes, fields        int // of the record being read
	line                 int // newlines read, inside quotes too
	start                int // the line the record starts on, less one
	err                  *csvLimitError
}

// csvLimitError is the error of a record past a bound.
type csvLimitError struct {
	line int
	msg  string
}

func (e *csvLimitError) Error() string { return e.msg }

func (l *csvLimit) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for _, c := range p[:n] {
		l.bytes++
		switch {
		case c == '"':
			l.quoted = !l.quoted
		case c == '\n':
			l.line++
			if !l.quoted {
				l.bytes, l.fields, l.start = 0, 0, l.line
			}
		case c == ',' && !l.quoted:
			l.fields++
		}
		switch {
		case l.bytes > l.maxRecord:
			l.err = &csvLimitError{l.start + 1, fmt.Sprintf("a csv record longer than %s", steps.FormatSize(int64(l.maxRecord)))}
		case l.fields >= l.maxFields:
			l.err = &csvLimitError{l.start + 1, fmt.Sprintf("a csv record of more than %d fields", l.maxFields)}
		}
		if l.err != nil {
			return 0, l.err
		}
	}
	return n, err
}
