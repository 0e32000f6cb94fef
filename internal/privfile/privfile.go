// Package privfile creates the files flowrun writes that may hold what a
// run saw (reports, results files): readable by their owner only.
package privfile

import "os"

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
