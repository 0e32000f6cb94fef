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

// TestOpenInStaysBeneath: OpenIn opens only what lies beneath its
// directory, whatever the path's ".." and symlinks say, and checks the
// type as Open does.
func TestOpenInStaysBeneath(t *testing.T) {
	root := t.TempDir()
	dir, outside := filepath.Join(root, "dir"), filepath.Join(root, "outside")
	for _, d := range []string{filepath.Join(dir, "sub"), filepath.Join(outside, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, s := range map[string]string{filepath.Join(dir, "x"): "in", filepath.Join(outside, "x"): "OUT"} {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for l, target := range map[string]string{"abs": filepath.Join(outside, "sub"), "rel": "../outside/sub", "in": "sub"} {
		if err := os.Symlink(target, filepath.Join(dir, l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rel, want string
		err       error
	}{
		{rel: "x", want: "in"},
		{rel: "in/../x", want: "in"},
		{rel: "abs/../x", err: ErrEscapes},
		{rel: "rel/../x", err: ErrEscapes},
		{rel: "../outside/x", err: ErrEscapes},
		{rel: filepath.Join(outside, "x"), err: ErrEscapes},
		{rel: "fifo", err: ErrNotRegular},
		{rel: "sub", err: ErrDirectory},
		{rel: "nope", err: os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			f, err := OpenIn(dir, tt.rel, "NAME")
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), "NAME") {
					if f != nil {
						b, _ := ReadAll(f, "", 100)
						t.Errorf("read %q", b)
					}
					t.Fatalf("got error %v; want %v naming NAME", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if b, _ := ReadAll(f, "", 100); string(b) != tt.want {
				t.Errorf("read %q; want %q", b, tt.want)
			}
		})
	}
}

// TestOpenRootEscapes: the portable way (os.Root, used where openat2 is
// missing) refuses the same escapes, and escapes recognises its error.
func TestOpenRootEscapes(t *testing.T) {
	root := t.TempDir()
	dir, outside := filepath.Join(root, "dir"), filepath.Join(root, "outside")
	for _, d := range []string{dir, filepath.Join(outside, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "x"), []byte("OUT"), 0o600); err != nil {
		t.Fatal(err)
	}
	for l, target := range map[string]string{"abs": filepath.Join(outside, "sub"), "rel": "../outside/sub"} {
		if err := os.Symlink(target, filepath.Join(dir, l)); err != nil {
			t.Fatal(err)
		}
	}
	for _, rel := range []string{"abs/../x", "rel/../x", "../outside/x"} {
		f, err := openRoot(dir, rel)
		if err == nil {
			f.Close()
			t.Errorf("openRoot(%q) opened a file outside", rel)
		} else if !escapes(err) {
			t.Errorf("openRoot(%q): %v; escapes says it is not an escape", rel, err)
		}
	}
}
