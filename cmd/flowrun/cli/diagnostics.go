package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/flowrun/flowrun/pkg/spec"
)

// loadChecked loads a workflow for a command that needs a valid one: any
// diagnostics go to stderr, and errors end the command with exit code 2.
func loadChecked(e *env, file string, paths pathFlags) (*spec.Workflow, error) {
	wf, ds := spec.Load(file, paths.options())
	if len(ds) > 0 {
		ds.Format(e.stderr, sourcesOf(ds))
	}
	if ds.HasErrors() {
		errs, _ := ds.Count()
		fmt.Fprintf(e.stderr, "%d error(s) in %s\n", errs, file)
		return nil, exitError{ExitInvalid}
	}
	return wf, nil
}

// sourcesOf gathers the text of the files diagnostics point into, so that
// each is rendered with its source line: the workflow itself, a file it
// calls with uses:. It is the text that was parsed (Diagnostic.Source),
// never the file read again by its path: a called file was opened where
// the path policy checked it, and its path may lead elsewhere by now.
func sourcesOf(ds spec.Diagnostics) map[string][]byte {
	out := make(map[string][]byte)
	for _, d := range ds {
		if _, done := out[d.File]; !done && d.Source != nil && d.Line > 0 {
			out[d.File] = d.Source
		}
	}
	return out
}

// pathFlags is the --allow-path flag of the commands that load workflows.
type pathFlags struct {
	AllowPath []string `name:"allow-path" sep:"none" placeholder:"DIR" predictor:"file" help:"Let uses: and items_from read files under DIR too; repeatable. By default they read only inside the workflow file's directory tree. FLOWRUN_ALLOW_PATH adds directories too, separated by the system's path list separator (: on Unix)."`
}

// options returns the load options the flags and FLOWRUN_ALLOW_PATH ask
// for.
func (f pathFlags) options() spec.Options {
	allow := append([]string(nil), f.AllowPath...)
	for _, dir := range filepath.SplitList(os.Getenv("FLOWRUN_ALLOW_PATH")) {
		if dir != "" {
			allow = append(allow, dir)
		}
	}
	return spec.Options{AllowPaths: allow}
}
