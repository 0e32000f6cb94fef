package privfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCreateMode(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.json")
	wide := filepath.Join(dir, "wide.json")
	if err := os.WriteFile(wide, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(wide, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	for _, path := range []string{fresh, wide} {
		if err := WriteFile(path, []byte("new")); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v; want 0600", filepath.Base(path), st.Mode().Perm())
		}
		if b, _ := os.ReadFile(path); string(b) != "new" {
			t.Errorf("%s: content %q; want %q", filepath.Base(path), b, "new")
		}
	}
}

// TestWriteAtomicReplaces: the report is a new file renamed over the old
// one, never the old one truncated and rewritten: whoever holds the old
// file (or finds it after a failed write) has it whole.
func TestWriteAtomicReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	if err := os.WriteFile(path, []byte("old report"), 0o644); err != nil {
		t.Fatal(err)
	}
	old, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := WriteAtomic(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("content %q; want %q", b, "new")
	}
	if b := make([]byte, 20); true {
		n, _ := old.ReadAt(b, 0)
		if string(b[:n]) != "old report" {
			t.Errorf("the old file now holds %q; want it untouched", b[:n])
		}
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v; want 0600", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files in the directory; want the report alone", len(entries))
	}

	// A symlink's target is replaced; the link stays.
	target := filepath.Join(dir, "target.json")
	link := filepath.Join(dir, "link.json")
	if err := os.WriteFile(target, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(link, []byte("via link")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "via link" {
		t.Errorf("target holds %q; want %q", b, "via link")
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the symlink was replaced by a file")
	}

	// A failed write leaves the old file and no temporary file.
	if err := WriteAtomic(filepath.Join(dir, "missing", "r.json"), []byte("x")); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}
