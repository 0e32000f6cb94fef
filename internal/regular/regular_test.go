package regular

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(small, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path  string
		limit int64
		want  string
		err   error
		msg   string
	}{
		{path: small, limit: 5, want: "12345"},
		{path: link, limit: 5, want: "12345"},
		{path: small, limit: 4, err: ErrTooLarge, msg: "file too large: the limit is 4 bytes"},
		{path: "/dev/zero", limit: 1 << 20, err: ErrNotRegular, msg: "/dev/zero: not a regular file (a character device)"},
		{path: fifo, limit: 1 << 20, err: ErrNotRegular, msg: "fifo: not a regular file (a named pipe)"},
		{path: dir, limit: 1 << 20, err: ErrNotRegular, msg: "not a regular file (a directory)"},
		{path: filepath.Join(dir, "missing"), limit: 1, err: os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			got, err := ReadFile(tt.path, tt.limit)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("got error %v; want %v containing %q", err, tt.err, tt.msg)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{8 << 20: "8 MiB", 1500: "1500 bytes", 2048: "2 KiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q; want %q", n, got, want)
		}
	}
}
