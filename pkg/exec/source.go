package exec

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/flowrun/flowrun/pkg/spec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// source hands a block's items to its workers, one at a time and in index
// order, as they free up: the items are never all in memory unless the
// block's items: is a list already. Its methods are safe for concurrent use.
type source interface {
	// next returns the next item and its index; ok is false once the
	// items are exhausted. An error (a malformed line, too many items)
	// stops the block.
	next() (index int, item any, ok bool, err error)
	// len is the number of items, or -1 when only the end tells.
	len() int
	close() error
}

// source builds the block's item source: a lazy range, a file, or the
// list its items: expression yields.
func (r *run) source(b *BoundStep) (source, error) {
	blk := b.step.Parallel
	switch {
	case blk.Range != nil:
		return rangeOf(b)
	case blk.ItemsFrom != nil:
		src, err := blk.ItemsFrom.Resolve(b.scope)
		if err != nil {
			return nil, fmt.Errorf("step %q: %w", b.step.ID, err)
		}
		return openItems(src, blk.MaxItems, b.step.ID, r.ir.maxParsed())
	case blk.Matrix != nil:
		return matrixOf(b)
	}
	list, err := r.items(b)
	if err != nil {
		return nil, err
	}
	return &indexed{n: list.Len(), at: list.At}, nil
}

// indexed is a source whose item i is computed from i: a list, a range.
// Workers take indexes from an atomic counter: no lock.
type indexed struct {
	n     int
	at    func(i int) any
	taken atomic.Int64
}

func (s *indexed) next() (int, any, bool, error) {
	i := int(s.taken.Add(1) - 1)
	if i >= s.n {
		return i, nil, false, nil
	}
	return i, s.at(i), true, nil
}

func (s *indexed) len() int     { return s.n }
func (s *indexed) close() error { return nil }

// rangeOf evaluates a range's ends; item i is from + i*step.
func rangeOf(b *BoundStep) (source, error) {
	rg, blk := b.step.Parallel.Range, b.step.Parallel
	ends := [3]int{0, 0, 1}
	for i, e := range rg.Exprs() {
		v, err := e.Eval(b.scope)
		if err != nil {
			return nil, err
		}
		n, ok := v.(int)
		if !ok {
			return nil, fmt.Errorf("%s: step %q: a range's ends and step must be integers, got %s", e.Pos, b.step.ID, describe(v))
		}
		ends[i] = n
	}
	from, step := ends[0], ends[2]
	n, ok := spec.RangeLen(from, ends[1], step, rg.Inclusive)
	if !ok {
		return nil, fmt.Errorf("%s: step %q: a range's step cannot be 0", rg.Pos, b.step.ID)
	}
	if n > blk.MaxItems {
		return nil, fmt.Errorf("%s: step %q: %d items exceed max_items %d; raise max_items if this is intended", rg.Pos, b.step.ID, n, blk.MaxItems)
	}
	return &indexed{n: n, at: func(i int) any { return from + i*step }}, nil
}

// itemList gives random access to a list of items without copying a
// typed list into []any.
type itemList interface {
	Len() int
	At(i int) any
}

type anyList []any

func (l anyList) Len() int     { return len(l) }
func (l anyList) At(i int) any { return l[i] }

type reflectList struct{ v reflect.Value }

func (l reflectList) Len() int     { return l.v.Len() }
func (l reflectList) At(i int) any { return l.v.Index(i).Interface() }

// items evaluates the block's items: expression or list.
func (r *run) items(b *BoundStep) (itemList, error) {
	blk := b.step.Parallel
	var v any
	var err error
	pos := blk.Pos
	if blk.List != nil {
		v, err = blk.List.Eval(b.scope)
	} else {
		v, err = blk.Expr.Eval(b.scope)
		pos = blk.Expr.Pos
	}
	if err != nil {
		return nil, err
	}
	var list itemList
	switch x := v.(type) {
	case []any:
		list = anyList(x)
	default:
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			return nil, fmt.Errorf("%s: step %q: items must be a list, got %s", pos, b.step.ID, describe(v))
		}
		list = reflectList{rv}
	}
	if list.Len() > blk.MaxItems {
		return nil, fmt.Errorf("%s: step %q: %d items exceed max_items %d; raise max_items if this is intended", pos, b.step.ID, list.Len(), blk.MaxItems)
	}
	return list, nil
}

func describe(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("%T %s", v, spec.Text(v))
}

// fileItems reads items from a file as the workers ask for them. A mutex
// serialises the reads: the file is one stream, and reading a line costs
// far less than running an item.
type fileItems struct {
	mu     sync.Mutex
	f      *os.File
	src    *spec.ItemsFrom
	step   string
	max    int
	lines  *bufio.Reader
	csv    *csv.Reader
	header []string
	line   int // lines read
	index  int // items handed out
	err    error
	// maxParsed bounds the memory of one jsonl item; limit bounds the
	// records of a csv file.
	maxParsed int64
	limit     *csvLimit
}

// maxLine bounds one line of an items file, and one record of a csv file.
const maxLine = 16 << 20

func openItems(src *spec.ItemsFrom, maxItems int, step string, maxParsed int64) (source, error) {
	f, err := src.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: step %q: items_from: %v", src.Pos, step, err)
	}
	s := &fileItems{f: f, src: src, step: step, max: maxItems, maxParsed: maxParsed}
	if src.Format == spec.FormatCSV {
		s.limit = &csvLimit{r: f, maxRecord: maxLine, maxFields: maxCSVFields}
		s.csv = csv.NewReader(bufio.NewReaderSize(s.limit, 64<<10))
		s.csv.ReuseRecord = true
		header, err := s.csv.Read()
		if err != nil {
			f.Close()
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%s: step %q: items_from %s is empty: a csv file starts with a header row", src.Pos, step, src.Path)
			}
			return nil, s.csvError(err)
		}
		s.header = append([]string(nil), header...)
	} else {
		s.lines = bufio.NewReaderSize(f, 64<<10)
	}
	return s, nil
}

func (s *fileItems) len() int     { return -1 }
func (s *fileItems) close() error { return s.f.Close() }

func (s *fileItems) next() (int, any, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.index, nil, false, s.err
	}
	item, ok, err := s.read()
	if err == nil && ok && s.index >= s.max {
		err = s.errorf("more than max_items %d items; raise max_items if this is intended", s.max)
	}
	if err != nil {
		s.err = err
		return s.index, nil, false, err
	}
	if !ok {
		return s.index, nil, false, nil
	}
	s.index++
	return s.index - 1, item, true, nil
}

// read returns the next item, skipping blank lines.
func (s *fileItems) read() (any, bool, error) {
	if s.csv != nil {
		rec, err := s.csv.Read()
		if errors.Is(err, io.EOF) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, s.csvError(err)
		}
		s.line, _ = s.csv.FieldPos(0)
		obj := make(map[string]any, len(s.header))
		for i, h := range s.header {
			obj[h] = rec[i]
		}
		return obj, true, nil
	}
	for {
		line, err := s.readLine()
		if err != nil || line == nil {
			return nil, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if s.src.Format == spec.FormatLines {
			return string(line), true, nil
		}
		v, err := steps.NewText([][]byte{line}).DecodeJSON(s.maxParsed)
		var le *steps.MemoryLimitError
		var de *steps.DepthError
		switch {
		case errors.As(err, &le):
			return nil, false, s.errorf("%v (the limit for a parsed item; raise it with --max-parsed-output)", err)
		case errors.As(err, &de):
			return nil, false, s.errorf("%v", err)
		case err != nil && strings.Contains(err.Error(), "more than one JSON value"):
			return nil, false, s.errorf("more than one JSON value on the line; jsonl holds one a line")
		case err != nil:
			return nil, false, s.errorf("invalid JSON: %v", err)
		}
		return v, true, nil
	}
}

// readLine returns the next line with its newline, nil at the end.
func (s *fileItems) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := s.lines.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLine {
			s.line++
			return nil, s.errorf("line longer than %d MiB", maxLine>>20)
		}
		switch {
		case err == nil:
			s.line++
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(line) == 0 {
				return nil, nil
			}
			s.line++
			return line, nil
		default:
			return nil, fmt.Errorf("%s: step %q: items_from %s: %v", s.src.Pos, s.step, s.src.Path, err)
		}
	}
}

// errorf names the file and line being read.
func (s *fileItems) errorf(format string, args ...any) error {
	return fmt.Errorf("%s:%d: step %q: items_from: %s", s.src.Path, s.line, s.step, fmt.Sprintf(format, args...))
}

func (s *fileItems) csvError(err error) error {
	var pe *csv.ParseError
	var le *csvLimitError
	if errors.As(err, &le) {
		s.line = le.line
		return s.errorf("%v", le)
	}
	if errors.As(err, &pe) {
		s.line = pe.Line
		return s.errorf("%v", pe.Err)
	}
	return fmt.Errorf("%s: step %q: items_from %s: %v", s.src.Pos, s.step, s.src.Path, err)
}
