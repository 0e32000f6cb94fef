package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/flowrun/flowrun/internal/privfile"
	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/spec"
)

// checkReports checks the --report files before the run, so that a
// report that cannot be written is known before hours of work rather
// than after: the directory of each exists (it is not made: a mistyped
// flag should not make directories), a file can be made there, no file
// is named twice, none is inside the state directory stateDir (where
// runs are recorded; "" when they are not), and none is a file the run
// reads or writes (its workflow files, an items_from, a results_file).
// The state directory is checked first, so that nothing is written there,
// not even the probe that tells a file can be made.
func checkReports(files []string, wf *spec.Workflow, stateDir string) error {
	seen := map[string]string{}
	uses := wf.FileUses()
	for _, file := range files {
		path := spec.CleanPath(file)
		if first, dup := seen[path]; dup {
			return fmt.Errorf("--report %s: the same file as --report %s", file, first)
		}
		seen[path] = file
		if err := exec.CheckStateDirFile(stateDir, file); err != nil {
			return fmt.Errorf("--report %s: %w", file, err)
		}
		for _, u := range uses {
			if u.Path == path {
				return fmt.Errorf("--report %s: %s is %s (%s); the report would overwrite it", file, path, u.What, u.Pos)
			}
		}
		if err := reportWritable(path); err != nil {
			return fmt.Errorf("--report %s: %w", file, err)
		}
	}
	return nil
}

// reportWritable checks that writeReport can replace the file at path.
func reportWritable(path string) error {
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("no directory %s", dir)
	}
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		return fmt.Errorf("%s is a directory", path)
	case err == nil && !st.Mode().IsRegular():
		return nil // /dev/stdout, a FIFO: written in place
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// writeReport writes the run report, masked already, to file: a
// self-contained HTML page when the name ends in .html or .htm, JSON
// otherwise. The file is readable by its owner only, and replaced whole
// (privfile.WriteAtomic): a full disk leaves the previous report as it
// was, never a report cut short. It writes the file that checkReports
// checked — the path cleaned, "link/.." by its text as spec.CleanPath
// reads it, not through the symlink — and refuses it if it has come to be
// inside the state directory stateDir since (a step made it a symlink to
// the key), so that a report never replaces what records a run.
func writeReport(file, stateDir string, rep *exec.Report) error {
	path, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	if err := exec.CheckStateDirFile(stateDir, path); err != nil {
		return err
	}
	var buf bytes.Buffer
	switch strings.ToLower(filepath.Ext(file)) {
	case ".html", ".htm":
		if err := writeHTMLReport(&buf, rep); err != nil {
			return err
		}
	default:
		if err := writeIndented(&buf, rep); err != nil {
			return err
		}
	}
	return privfile.WriteAtomic(path, buf.Bytes())
}
