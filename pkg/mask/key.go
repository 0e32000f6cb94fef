package mask

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// KeyFile is the name of the key file in a state directory.
const KeyFile = "secret.key"

// keySize is the length of a key in bytes.
const keySize = 32

// A Key makes keyed hashes of secret values (HMAC-SHA256), so that a run
// record can tell whether a resume has the same secret inputs as the run
// it resumes without storing them: the hash of a guessable secret cannot
// be checked against guesses without the key, which never leaves the
// state directory.
type Key []byte

// LoadKey returns the key of a state directory, creating the directory
// (0700) and the key file (0600, 32 random bytes) on first use. Concurrent
// callers get the same key: the file is written under a temporary name and
// linked into place, so it is whole or absent. A key file of the wrong
// size is an error, not replaced: hashes made with it would no longer
// match.
func LoadKey(dir string) (Key, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, KeyFile)
	k, err := readKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	tmp, err := os.CreateTemp(dir, KeyFile+".*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	k = make(Key, keySize)
	_, _ = rand.Read(k) // crypto/rand.Read never fails
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, err
	}
	_, err = tmp.Write(k)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	// Another process may have linked its key first: read what is there.
	return readKey(path)
}

func readKey(path string) (Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	k, err := io.ReadAll(io.LimitReader(f, keySize+1))
	if err != nil {
		return nil, err
	}
	if len(k) != keySize {
		return nil, fmt.Errorf("%s: a key is %d bytes, this file has %d", path, keySize, len(k))
	}
	return k, nil
}

// SumPrefix starts every Sum.
const SumPrefix = "hmac-sha256:"

// Sum returns the keyed hash of v, "hmac-sha256:" and 64 hex digits. v is
// hashed as JSON (map keys sorted), so equal values have equal sums
// whatever their origin; a value that JSON cannot encode is hashed as its
// fmt %#v text.
func (k Key) Sum(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		b = fmt.Appendf(nil, "%#v", v)
	}
	mac := hmac.New(sha256.New, k)
	mac.Write(b)
	return SumPrefix + hex.EncodeToString(mac.Sum(nil))
}

// SumText returns the keyed hash of text's bytes as they are (invalid
// UTF-8 included, which Sum's JSON would make U+FFFD), in Sum's form but
// apart from any Sum: the text is hashed after a prefix of its own.
func (k Key) SumText(text string) string {
	mac := hmac.New(sha256.New, k)
	mac.Write([]byte("text\x00"))
	mac.Write([]byte(text))
	return SumPrefix + hex.EncodeToString(mac.Sum(nil))
}

// Equal reports whether sum is the keyed hash of v, in constant time.
func (k Key) Equal(sum string, v any) bool {
	return hmac.Equal([]byte(sum), []byte(k.Sum(v)))
}

// Inputs returns a copy of inputs, the resolved inputs of a run, in which
// the value of every input that secret names is replaced by its Sum: what
// a run record stores, so that a resume can compare its inputs with the
// record's (Equal) without the record holding a secret.
func (k Key) Inputs(inputs map[string]any, secret func(name string) bool) map[string]any {
	out := make(map[string]any, len(inputs))
	for name, v := range inputs {
		if secret(name) {
			v = k.Sum(v)
		}
		out[name] = v
	}
	return out
}
