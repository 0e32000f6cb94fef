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
