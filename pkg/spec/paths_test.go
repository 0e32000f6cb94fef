package spec

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPathPolicyOpensWhatItChecked: the file opened is the one the policy
// resolved as the kernel resolves the path — ".." after a symlink climbs
// out of the link's target — never the lexically cleaned path, and a
// lookup that fails outside says nothing of what is there.
func TestPathPolicyOpensWhatItChecked(t *testing.T) {
	root := t.TempDir()
	tree, outside, allowed := filepath.Join(root, "tree"), filepath.Join(root, "outside"), filepath.Join(root, "allowed")
	for _, d := range []string{filepath.Join(tree, "sub"), filepath.Join(outside, "sub"), allowed} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(tree, "x.txt"):           "inside",
		filepath.Join(tree, "sub", "y.txt"):    "inside sub",
		filepath.Join(outside, "x.txt"):        "OUTSIDE",
		filepath.Join(allowed, "z.txt"):        "allowed",
		filepath.Join(outside, "sub", "y.txt"): "OUTSIDE sub",
	}
	for p, s := range files {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		filepath.Join(tree, "out"):  filepath.Join(outside, "sub"), // absolute, points out
		filepath.Join(tree, "rel"):  "../outside/sub",              // relative, points out
		filepath.Join(tree, "in"):   filepath.Join(tree, "sub"),    // absolute, stays in
		filepath.Join(tree, "insd"): "sub",                         // relative, stays in
		filepath.Join(tree, "al"):   allowed,                       // into an allowed directory
	}
	for l, target := range links {
		if err := os.Symlink(target, l); err != nil {
			t.Fatal(err)
		}
	}
	pp := newPathPolicy(filepath.Join(tree, "wf.yaml"), []string{allowed})
	tests := []struct {
		path string
		want string // the content read, or "" for an error
		err  error
	}{
		{path: filepath.Join(tree, "x.txt"), want: "inside"},
		{path: tree + "/in/y.txt", want: "inside sub"},
		{path: tree + "/insd/../x.txt", want: "inside"},
		{path: tree + "/in/../x.txt", want: "inside"},
		{path: tree + "/al/z.txt", want: "allowed"},
		{path: tree + "/out/../x.txt", err: errOutside},     // cleaned: tree/x.txt; opened: outside/x.txt
		{path: tree + "/rel/../x.txt", err: errOutside},     // the same through a relative link
		{path: tree + "/out/y.txt", err: errOutside},        // plainly through the link
		{path: tree + "/out/../nope", err: errOutside},      // missing outside: not told apart
		{path: tree + "/out/nope/x", err: errOutside},       // the same, deeper
		{path: tree + "/../outside/x.txt", err: errOutside}, // outside as written
		{path: filepath.Join(tree, "nope.txt"), err: fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.path, root), func(t *testing.T) {
			f, err := pp.open(tt.path, "W")
			if tt.err != nil {
				if err == nil {
					b, _ := io.ReadAll(f)
					f.Close()
					t.Fatalf("opened %q; want an error %v", b, tt.err)
				}
				if !errors.Is(err, tt.err) {
					t.Fatalf("got error %v; want %v", err, tt.err)
				}
				if errors.Is(err, errOutside) && err.Error() != pp.outside("W").Error() {
					t.Errorf("got error %q; want exactly %q, whatever is there", err, pp.outside("W"))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if b, _ := io.ReadAll(f); string(b) != tt.want {
				t.Errorf("read %q; want %q", b, tt.want)
			}
		})
	}
}
