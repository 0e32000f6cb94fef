// Package privfile creates the files flowrun writes that may hold what a
// run saw (reports, results files): readable by their owner only.
package privfile

import (
	"os"
	"path/filepath"
)

// Create creates or truncates the file at path for writing with mode
// 0600. A regular file that existed with a wider mode is narrowed to 0600
// too: a report that once held nothing private may now. Anything else
// (/dev/stdout, a FIFO) is opened as it is, its mode untouched.
func Create(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Mode().Perm() != 0o600 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

// WriteFile writes data to the file at path as Create makes it.
func WriteFile(path string, data []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteAtomic replaces the file at path with data so that a reader, or the
// file after a crash or a full disk, has either the old content or the
// new one, never a part: a temporary file made as Create makes files is
// written and synced in the same directory, then renamed over path. A
// symlink at path is followed, so that its target is replaced. A path
// that exists and is not a regular file (/dev/stdout, a FIFO) is written
// as WriteFile does.
func WriteAtomic(path string, data []byte) (err error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return WriteFile(path, data)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err == nil {
		if _, err = f.Write(data); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
