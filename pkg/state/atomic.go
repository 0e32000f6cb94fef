package state

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
)

// writeFileAtomic replaces name with data so that a reader, or the file
// after a crash, has either the old content or the new one, never a mix:
// a temporary file in the same directory is written, synced and renamed
// over name, then the directory is synced so the rename is durable.
func writeFileAtomic(name string, data []byte, perm os.FileMode) error {
	return writeAtomic(name, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic is writeFileAtomic with the content written by write,
// through a buffer, so that a large file is never all in memory.
func writeAtomic(name string, perm os.FileMode, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err == nil {
		bw := bufio.NewWriterSize(f, 64<<10)
		if err = write(bw); err == nil {
			if err = bw.Flush(); err == nil {
				err = f.Sync()
			}
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err = os.Rename(tmp, name); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes the directory's entries (a created or renamed file) durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
