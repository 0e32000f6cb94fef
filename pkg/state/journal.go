package state

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Group commit intervals: a record appended is written to the file within
// FlushEvery and synced to disk within SyncEvery (plus scheduling delay).
const (
	FlushEvery = 10 * time.Millisecond
	SyncEvery  = 100 * time.Millisecond
)

// maxPending bounds the records buffered between two writes: an appender
// that finds more writes them itself, so a slow disk slows the run down
// instead of growing memory. A megabyte is about 12,000 records: few
// writes, and buffers that never need to grow.
const maxPending = 1 << 20

// initialBuffer is the capacity the two buffers of a Writer start with:
// a block of fast items fills one between two flushes, and growing it
// there from a few kilobytes cost more than journaling the records.
const initialBuffer = maxPending + 64<<10

// ErrClosed is returned by a Writer's methods after Close.
var ErrClosed = errors.New("journal is closed")

// Writer appends records to a run's journal with group commit: records
// are encoded into a buffer, the buffer is written with one write(2) at
// least every FlushEvery by a background goroutine, and the file is
// fsynced at least every SyncEvery by another — never once per item, and
// a slow fsync does not hold up the writes. Step, BlockEnd and RunEnd
// also write and fsync before they return, so a step that has finished is
// durable before the next one starts.
//
// A Writer is safe for concurrent use. Records from one goroutine are
// written in the order it appended them.
//
// The first write or sync error (a full disk, an I/O error) is sticky:
// every later call returns it, nothing more is written, and whole records
// written before it stay valid (a partially written batch is cut back, and
// a reader drops a torn tail anyway). The caller must stop the run with it.
type Writer struct {
	name string

	mu     sync.Mutex // guards buf, err, closed
	buf    []byte
	err    error
	closed bool

	wmu   sync.Mutex // held while writing to f; taken before mu
	f     journalFile
	spare []byte
	size  int64 // bytes of whole records in the file

	smu    sync.Mutex // held while fsyncing f; taken before wmu
	synced int64      // bytes known to be on disk

	stop chan struct{}
	done sync.WaitGroup
	once sync.Once
}

// OpenJournal opens the journal file name for appending, creating it (mode
// 0600) if needed. An existing journal is read first: a torn last record is
// cut off so that new records follow whole ones; a damaged record in the
// middle is an error (see Reader). Close the Writer to stop its goroutine.
func OpenJournal(name string) (*Writer, error) {
	size := int64(0)
	if f, _, err := openRegular(name); err == nil {
		rd := NewReader(f, name)
		for {
			if _, err = rd.Next(); err != nil {
				break
			}
		}
		f.Close()
		if !errors.Is(err, errEOF) {
			return nil, err
		}
		size = rd.Offset()
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return openJournal(name, size)
}

// openJournal opens name for appending after its first size bytes, which
// hold whole records; anything after them is cut off.
func openJournal(name string, size int64) (*Writer, error) {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s: not a regular file", name)
	}
	if err == nil && fi.Size() != size {
		if err = f.Truncate(size); err == nil {
			err = f.Sync()
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return newWriter(name, f, size), nil
}

// journalFile is what a Writer needs of its file (a seam for tests that
// make writes fail).
type journalFile interface {
	Write([]byte) (int, error)
	Sync() error
	Truncate(int64) error
	Close() error
}

// newWriter starts a Writer on f, which holds size bytes of whole records.
func newWriter(name string, f journalFile, size int64) *Writer {
	w := &Writer{
		name: name, f: f, size: size, synced: size,
		buf: make([]byte, 0, initialBuffer), spare: make([]byte, 0, initialBuffer),
		stop: make(chan struct{}),
	}
	w.done.Add(2)
	go w.flushLoop()
	go w.syncLoop()
	return w
}

// Item appends the record of a finished item. It does not wait for the
// disk: the record is durable within SyncEvery, or after Sync.
func (w *Writer) Item(r *ItemRecord) error {
	out, nonFinite, err := r.OutputJSON, r.NonFinite, error(nil)
	if out == nil {
		out, nonFinite, err = encodeOutput(r.Output)
	} else if nonFinite != nil {
		err = checkPaths(nonFinite)
	}
	if err == nil {
		err = checkDuration(r.DurationMS)
	}
	if err != nil {
		return fmt.Errorf("journal: step %q item %d (key %q): %w", r.Step, r.Index, r.Key, err)
	}
	w.mu.Lock()
	if err := w.usable(); err != nil {
		w.mu.Unlock()
		return err
	}
	n := len(w.buf)
	w.buf = appendItem(w.buf, r, out, nonFinite)
	return w.appended(n)
}

// BlockStart appends the start of a parallel block of total items.
func (w *Writer) BlockStart(step string, total int) error {
	w.mu.Lock()
	if err := w.usable(); err != nil {
		w.mu.Unlock()
		return err
	}
	n := len(w.buf)
	w.buf = appendBlockStart(w.buf, step, total)
	return w.appended(n)
}

// Step appends the result of a finished single step, then syncs.
func (w *Writer) Step(r *StepRecord) error {
	out, nonFinite, err := encodeOutput(r.Output)
	if err != nil {
		return fmt.Errorf("journal: step %q: %w", r.ID, err)
	}
	return w.appendSynced(func(b []byte) []byte { return appendStep(b, r, out, nonFinite) })
}

// BlockEnd appends the end of a parallel block, then syncs.
func (w *Writer) BlockEnd(step, status string, total int) error {
	return w.appendSynced(func(b []byte) []byte { return appendBlockEnd(b, step, status, total) })
}

// RunEnd appends the end of the run (or of this attempt at it), then syncs.
func (w *Writer) RunEnd(status, errText string) error {
	return w.appendSynced(func(b []byte) []byte { return appendRun(b, status, errText) })
}

// appendSynced appends the record encode writes, then syncs: the ends of
// steps, blocks and runs, which must be on disk before they return.
func (w *Writer) appendSynced(encode func([]byte) []byte) error {
	w.mu.Lock()
	if err := w.usable(); err != nil {
		w.mu.Unlock()
		return err
	}
	n := len(w.buf)
	w.buf = encode(w.buf)
	if err := w.appended(n); err != nil {
		return err
	}
	return w.Sync()
}

// usable returns why nothing can be appended; w.mu is held.
func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrClosed
	}
	return nil
}

// appended ends an append that started with the buffer n bytes long and
// unlocks w.mu: it takes back a record too big to read back, and writes
// the buffer itself when it holds more than maxPending.
func (w *Writer) appended(n int) error {
	if len(w.buf)-n > MaxRecord {
		w.buf = w.buf[:n]
		w.mu.Unlock()
		return fmt.Errorf("journal: a record of more than %d bytes (an output too big to journal)", MaxRecord)
	}
	full := len(w.buf) > maxPending
	w.mu.Unlock()
	if full {
		return w.Flush()
	}
	return nil
}

// Flush writes the buffered records to the file (one write), without
// syncing. It returns the sticky error, if any.
func (w *Writer) Flush() error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	return w.flushLocked()
}

// Sync writes the buffered records and fsyncs the file: every record
// appended before Sync was called is durable when it returns nil.
func (w *Writer) Sync() error {
	w.wmu.Lock()
	err := w.flushLocked()
	target := w.size
	w.wmu.Unlock()
	if err != nil {
		return err
	}
	return w.syncTo(target)
}

// Err returns the sticky error, nil while the journal is healthy.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// flushLocked writes the buffer; w.wmu is held.
func (w *Writer) flushLocked() error {
	w.mu.Lock()
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return err
	}
	buf := w.buf
	w.buf = w.spare[:0]
	w.mu.Unlock()
	if len(buf) == 0 {
		w.spare = buf
		return nil
	}
	n, err := w.f.Write(buf)
	if err != nil {
		if n > 0 {
			// Cut the partial batch back to whole records. If this
			// fails too, readers drop the torn tail.
			_ = w.f.Truncate(w.size)
		}
		return w.fail(fmt.Errorf("journal %s: write: %w", w.name, err))
	}
	w.size += int64(n)
	if cap(buf) > 2*maxPending {
		buf = make([]byte, 0, initialBuffer) // do not keep a burst's buffer
	}
	w.spare = buf[:0]
	return nil
}

// syncTo fsyncs the file unless its first target bytes are on disk
// already. Writes go on meanwhile: what they add is synced by the next
// call.
func (w *Writer) syncTo(target int64) error {
	w.smu.Lock()
	defer w.smu.Unlock()
	if err := w.Err(); err != nil {
		return err
	}
	if w.synced >= target {
		return nil
	}
	w.wmu.Lock()
	size := w.size // all of it is written: the fsync covers it
	w.wmu.Unlock()
	if err := w.f.Sync(); err != nil {
		return w.fail(fmt.Errorf("journal %s: sync: %w", w.name, err))
	}
	w.synced = size
	return nil
}

// fail makes err sticky and returns it.
func (w *Writer) fail(err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
	w.buf = w.buf[:0]
	return w.err
}

// flushLoop writes the buffer every FlushEvery.
func (w *Writer) flushLoop() {
	defer w.done.Done()
	t := time.NewTicker(FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		_ = w.Flush()
	}
}

// syncLoop fsyncs what was written, often enough that a write is on disk
// within SyncEvery of being made (if the disk keeps up).
func (w *Writer) syncLoop() {
	defer w.done.Done()
	t := time.NewTicker(SyncEvery - 2*FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		w.wmu.Lock()
		size := w.size
		w.wmu.Unlock()
		_ = w.syncTo(size)
	}
}

// Close stops the background commit, writes and syncs what is buffered and
// closes the file. It returns the sticky error, if any. Later appends
// return ErrClosed; Close again returns nil.
func (w *Writer) Close() error {
	var err error
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		close(w.stop)
		w.done.Wait()
		err = w.Sync()
		if cerr := w.f.Close(); err == nil {
			err = cerr
		}
	})
	return err
}
