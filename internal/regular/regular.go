// Package regular opens the files flowrun reads — workflows, called
// workflows, `--set @FILE` and items_from — so that each is a regular file
// read through a limit: a device such as /dev/zero, a FIFO, a directory or
// a socket is an error at once, never an endless read or a block.
package regular

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is wrapped by the error of Open and ReadFile for a path
// that names something other than a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by the error of ReadFile for a file longer than
// its limit.
var ErrTooLarge = errors.New("file too large")

// Open opens path for reading if it is a regular file, after following
// symlinks. The type is checked on the opened descriptor (fstat), so a
// file swapped between a check and the open cannot slip through; the open
// is non-blocking, so a FIFO without a writer returns at once instead of
// waiting for one. The caller closes the file.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, kind(info.Mode()))
	}
	// O_NONBLOCK has no effect on a regular file's reads.
	return f, nil
}

// ReadFile reads the regular file at path, which must hold at most limit
// bytes: no more than limit+1 bytes are ever read, whatever the file's
// size says (it may grow while being read).
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, path, limit)
}

// ReadAll reads r to its end, which must come within limit bytes; name
// says what r is in the error.
func ReadAll(r io.Reader, name string, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: %w: the limit is %s", name, ErrTooLarge, Size(limit))
	}
	return b, nil
}

// kind names a file type for an error message.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file"
}

// Size formats a byte count with the largest binary unit that divides it:
// "8 MiB", "1500 bytes".
func Size(n int64) string {
	for _, u := range []struct {
		name string
		n    int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.n == 0 {
			return fmt.Sprintf("%d %s", n/u.n, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
