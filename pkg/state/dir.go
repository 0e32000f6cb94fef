package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// DefaultDir is the state directory used when neither --state-dir nor
// $FLOWRUN_STATE_DIR names one: relative to the working directory.
const DefaultDir = ".flowrun"

// EnvDir is the environment variable naming the state directory.
const EnvDir = "FLOWRUN_STATE_DIR"

// File names inside a run's folder.
const (
	RunFile     = "run.json"
	JournalFile = "journal"
	ReportFile  = "report.json"
	LockFile    = "lock"
)

// Dir is a state directory. Its zero value is not usable; see New.
type Dir struct {
	path string
}

// DirFromEnv returns the state directory to use: flag when set, else
// $FLOWRUN_STATE_DIR when set, else DefaultDir.
func DirFromEnv(flag string) string {
	if flag != "" {
		return flag
	}
	if v := os.Getenv(EnvDir); v != "" {
		return v
	}
	return DefaultDir
}

// New returns the state directory at path. Nothing is created or checked
// until a method needs it.
func New(path string) *Dir { return &Dir{path: filepath.Clean(path)} }

// Path is the directory's path, as given to New (cleaned).
func (d *Dir) Path() string { return d.path }

// runsDir is where the runs' folders are.
func (d *Dir) runsDir() string { return filepath.Join(d.path, "runs") }

// RunDir is the folder of run id.
func (d *Dir) RunDir(id string) string { return filepath.Join(d.runsDir(), id) }

// Check makes sure runs can be recorded: the state directory and its runs
// folder exist or can be created, and a file can be created, written,
// synced and removed there. A run must not start when it fails; the error
// names the directory and says what to do.
func (d *Dir) Check() error {
	if err := os.MkdirAll(d.runsDir(), 0o700); err != nil {
		return d.unusable(err)
	}
	f, err := os.CreateTemp(d.runsDir(), ".check-*")
	if err != nil {
		return d.unusable(err)
	}
	name := f.Name()
	_, err = f.Write([]byte("flowrun state check\n"))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	if err != nil {
		return d.unusable(err)
	}
	return nil
}

func (d *Dir) unusable(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("state directory %s is not writable (%v): fix it, choose another with --state-dir or %s, or run with --no-state", d.path, err, EnvDir)
}

// validID reports whether id can name a run folder: non-empty, no path
// separators, not "." or "..", not hidden.
func validID(id string) bool {
	if id == "" || id[0] == '.' || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
