package state

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
)

// HashFile returns the hex sha256 of a regular file's bytes, as stored in
// run.json for the workflow and its callees. It refuses anything that is
// not a regular file (a FIFO or a device would never end).
func HashFile(name string) (string, error) {
	f, _, err := openRegular(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %v", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// HashBytes returns the hex sha256 of data: for a workflow already read
// into memory, so the hash is of the bytes that were parsed.
func HashBytes(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}
