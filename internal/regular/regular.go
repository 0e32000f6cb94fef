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
	"path/filepath"
	"syscall"
)

// ErrNotRegular is wrapped by the error of Open and ReadFile for a path
// that names something other than a regular file.
var ErrNotRegular = errors.New("not a regular file")

// ErrDirectory is wrapped, with ErrNotRegular, by the error of Open and
// ReadFile for a path that names a directory.
var ErrDirectory = errors.New("a directory")

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
	return checked(f, err, path)
}

// OpenIn is Open for the file at rel, a relative path, inside the
// directory dir: no step of its resolution may leave dir, whether through
// "..", an absolute symlink or a symlink pointing out, even if the tree
// changes while it is opened; such a path is an error wrapping ErrEscapes.
// Symlinks that stay inside dir are followed. On Linux the kernel enforces
// it (openat2 with RESOLVE_BENEATH and RESOLVE_NO_MAGICLINKS); elsewhere,
// and on kernels without openat2, os.Root does. name is how errors show
// the file.
func OpenIn(dir, rel, name string) (*os.File, error) {
	if filepath.IsAbs(rel) {
		return nil, fmt.Errorf("%s: %w", name, ErrEscapes)
	}
	f, err := openBeneath(dir, rel)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			// Name the file as the caller shows it, not as opened.
			err = &fs.PathError{Op: pe.Op, Path: name, Err: pe.Err}
		}
		if escapes(err) {
			err = fmt.Errorf("%s: %w", name, ErrEscapes)
		}
	}
	return checked(f, err, name)
}

// ErrEscapes is wrapped by the error of OpenIn for a path that leaves its
// directory.
var ErrEscapes = errors.New("path escapes its directory")

// openRoot is OpenIn's portable way: os.Root follows a symlink only
// while it stays inside the root, component by component.
func openRoot(dir, rel string) (*os.File, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// escapes reports whether err says that a path left its directory:
// EXDEV from openat2, or os.Root's error, which has no exported value.
func escapes(err error) bool {
	var pe *fs.PathError
	return errors.Is(err, syscall.EXDEV) || errors.As(err, &pe) && pe.Err.Error() == "path escapes from parent"
}

// checked returns f if it is a regular file, and closes it otherwise; f
// and err are the result of an open, name shows the file in errors.
func checked(f *os.File, err error, name string) (*os.File, error) {
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if info.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: %w (%w)", name, ErrNotRegular, ErrDirectory)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w (%s)", name, ErrNotRegular, Kind(info.Mode()))
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

// Kind names a file type that is not a regular file, for an error
// message: "a directory", "a named pipe".
func Kind(m fs.FileMode) string {
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
