package state

import (
	"fmt"
	"os"
)

// openRegular opens name for reading when it is a regular file: a FIFO
// would block the open itself and a device would never end, so the path
// is checked before it is opened and the opened file after.
func openRegular(name string) (*os.File, os.FileInfo, error) {
	before, err := os.Stat(name)
	if err != nil {
		return nil, nil, err
	}
	if !before.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s: not a regular file", name)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && (!fi.Mode().IsRegular() || !os.SameFile(before, fi)) {
		err = fmt.Errorf("%s: changed while it was opened", name)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}
