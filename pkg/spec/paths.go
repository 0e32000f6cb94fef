package spec

import (
	"errors"
	"fmt"
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

// resolve returns the real path of a file a workflow wants to read,
// symlinks resolved, or an error when it lies outside the allowed
// directories. written is the path as the workflow spells it, for the
// message. Nothing outside is looked up: a path that is outside as written
// is refused before any file system call, so the error does not tell
// whether it exists.
func (pp *pathPolicy) resolve(path, written string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if !inside(abs, pp.lexical) && !inside(abs, pp.real) {
		return "", pp.outside(written)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", err
	}
	if !inside(real, pp.real) {
		return "", pp.outside(written)
	}
	return real, nil
}

func (pp *pathPolicy) outside(written string) error {
	return fmt.Errorf("%q is %w: outside %s, the directory tree of the workflow (symlinks resolved); allow it with --allow-path DIR or FLOWRUN_ALLOW_PATH", written, errOutside, pp.top)
}

// inside reports whether path is one of dirs or lies under one of them.
func inside(path string, dirs []string) bool {
	for _, d := range dirs {
		rel, err := filepath.Rel(d, path)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel) {
			return true
		}
	}
	return false
}

// Open opens the items file for reading (one that Resolve returned when
// the name is an expression), once the workflow's path policy
// allows it and it is a regular file (see internal/regular): a FIFO or
// /dev/zero is an error at once. The caller closes the file.
func (s *ItemsFrom) Open() (*os.File, error) {
	if s.Expr != nil {
		return nil, fmt.Errorf("items_from %s: the file name is not evaluated yet (see Resolve)", s.File)
	}
	if s.paths != nil {
		// A file that does not exist is reported by the open.
		if _, err := s.paths.resolve(s.Path, s.File); errors.Is(err, errOutside) {
			return nil, err
		}
	}
	return regular.Open(s.Path)
}
