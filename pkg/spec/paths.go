package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowrun/flowrun/internal/regular"
)

// pathPolicy says which files a workflow may read through uses: and
// items_from: those inside the directory tree of the workflow loaded
// first, symlinks resolved, and those inside the directories allowed
// explicitly (Options.AllowPaths: the --allow-path flag and
// FLOWRUN_ALLOW_PATH). A workflow from a pull request must not read a
// credentials file elsewhere on the machine, nor print its first line in a
// diagnostic.
type pathPolicy struct {
	// lexical are the allowed directories made absolute; real are the
	// same with symlinks resolved. A path must be inside one of lexical
	// or real before anything about it is looked up, then inside one of
	// real once its own symlinks are resolved.
	lexical, real []string
	// top is the directory of the workflow loaded first, as given, for
	// messages.
	top string
}

func newPathPolicy(topFile string, allow []string) *pathPolicy {
	pp := &pathPolicy{}
	for i, dir := range append([]string{filepath.Dir(topFile)}, allow...) {
		if dir == "" {
			continue
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			continue
		}
		if i == 0 {
			pp.top = dir
		}
		pp.lexical = append(pp.lexical, abs)
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			pp.real = append(pp.real, real)
		}
	}
	return pp
}

// errOutside is wrapped by the errors of resolve for a path outside the
// allowed directories.
var errOutside = errors.New("not allowed")

// resolve finds the file a workflow wants to read as the operating system
// would — symlinks resolved in order, so that ".." after a symlink climbs
// out of its target, not out of the link's directory — and returns the
// allowed directory (symlinks resolved) that holds it and its path there,
// or an error when it lies outside every allowed directory. written is
// the path as the workflow spells it, for the message. A path that is
// outside as written is refused before any file system call, and a
// lookup that fails outside is refused the same way, so the error does
// not tell whether a file outside exists.
func (pp *pathPolicy) resolve(path, written string) (dir, rel string, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", "", err
	}
	if !inside(abs, pp.lexical) && !inside(abs, pp.real) {
		return "", "", pp.outside(written)
	}
	// Not abs: filepath.Abs cleans the path, and a cleaned path can name
	// another file than the path itself (tree/link/../x).
	real, err := filepath.EvalSymlinks(absolute(path))
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && (inside(filepath.Clean(pe.Path), pp.real) || inside(filepath.Clean(pe.Path), pp.lexical)) {
			// Missing, or unreadable, inside (pe.Path is the resolved
			// path of what failed): say so, named as given.
			return "", "", &fs.PathError{Op: "open", Path: path, Err: pe.Err}
		}
		return "", "", pp.outside(written)
	}
	if dir = within(real, pp.real); dir == "" {
		return "", "", pp.outside(written)
	}
	rel, err = filepath.Rel(dir, real)
	return dir, rel, err
}

// open opens the file a workflow wants to read: exactly the file resolve
// found and checked, never the path as written, opened beneath its
// allowed directory (see regular.OpenIn), so that a symlink swapped in
// between the check and the open cannot lead out either. It must be a
// regular file. The caller closes it.
func (pp *pathPolicy) open(path, written string) (*os.File, error) {
	dir, rel, err := pp.resolve(path, written)
	if err != nil {
		return nil, err
	}
	return pp.openResolved(dir, rel, path, written)
}

// openResolved is the second half of open: it opens rel beneath dir, as
// resolve returned them for path.
func (pp *pathPolicy) openResolved(dir, rel, path, written string) (*os.File, error) {
	f, err := regular.OpenIn(dir, rel, path)
	if errors.Is(err, regular.ErrEscapes) {
		return nil, pp.outside(written)
	}
	return f, err
}

// joinFile is file resolved against dir, tidied but not cleaned (tidy):
// the path names the file the system opens.
func joinFile(dir, file string) string {
	if !filepath.IsAbs(file) {
		file = dir + string(filepath.Separator) + file
	}
	return tidy(file)
}

// tidy drops the "." elements and repeated separators of path, which
// never change the file it names, and keeps its "..": lexically, a/..
// is where a was, but the system climbs out of a's target when a is a
// symlink, so filepath.Clean can turn a path into another file's.
func tidy(path string) string {
	vol := filepath.VolumeName(path)
	rest := path[len(vol):]
	var parts []string
	for _, p := range strings.FieldsFunc(rest, func(r rune) bool { return r < 0x80 && os.IsPathSeparator(byte(r)) }) {
		if p != "." {
			parts = append(parts, p)
		}
	}
	out := strings.Join(parts, string(filepath.Separator))
	switch {
	case rest != "" && os.IsPathSeparator(rest[0]):
		out = string(filepath.Separator) + out
	case out == "":
		out = "."
	}
	return vol + out
}

// shown is how a path that resolve allowed is shown: cleaned
// (filepath.Clean) when that names the same file, as it is otherwise
// (a symlink before a ".."), so that a message never names another file
// than the one read.
func shown(path string) string {
	c := filepath.Clean(path)
	if c == path || !strings.Contains(path, "..") || identity(c) == identity(path) {
		return c
	}
	return path
}

// absolute makes path absolute without cleaning it.
func absolute(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	wd, err := os.Getwd()
	if err != nil {
		return path
	}
	return wd + string(filepath.Separator) + path
}

func (pp *pathPolicy) outside(written string) error {
	return fmt.Errorf("%q is %w: outside %s, the directory tree of the workflow (symlinks resolved); allow it with --allow-path DIR or FLOWRUN_ALLOW_PATH", written, errOutside, pp.top)
}

// inside reports whether path is one of dirs or lies under one of them.
func inside(path string, dirs []string) bool {
	return within(path, dirs) != ""
}

// within returns the first of dirs that is path or holds it, or "".
func within(path string, dirs []string) string {
	for _, d := range dirs {
		rel, err := filepath.Rel(d, path)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel) {
			return d
		}
	}
	return ""
}

// Open opens the items file for reading (one that Resolve returned when
// the name is an expression), once the workflow's path policy
// allows it and it is a regular file (see internal/regular): a FIFO or
// /dev/zero is an error at once. The caller closes the file.
func (s *ItemsFrom) Open() (*os.File, error) {
	if s.Expr != nil {
		return nil, fmt.Errorf("items_from %s: the file name is not evaluated yet (see Resolve)", s.File)
	}
	if s.paths == nil {
		return regular.Open(s.Path)
	}
	return s.paths.open(s.Path, s.File)
}
