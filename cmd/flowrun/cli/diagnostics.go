package cli

import (
	"fmt"
	"os"

	"github.com/flowrun/flowrun/pkg/spec"
)

// loadChecked loads a workflow for a command that needs a valid one: any
// diagnostics go to stderr, and errors end the command with exit code 2.
func loadChecked(e *env, file string) (*spec.Workflow, error) {
	wf, ds := spec.Load(file, spec.Options{})
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

// sourcesOf reads the files diagnostics point into, so that each is
// rendered with its source line: the workflow itself, a file it calls
// with uses:, or one too broken to load. A file that cannot be read again
// is rendered without a snippet.
func sourcesOf(ds spec.Diagnostics) map[string][]byte {
	out := make(map[string][]byte)
	for _, d := range ds {
		if _, done := out[d.File]; done || d.Line == 0 {
			continue
		}
		if info, err := os.Stat(d.File); err != nil || info.Size() > spec.MaxFileSize {
			out[d.File] = nil
			continue
		}
		out[d.File], _ = os.ReadFile(d.File)
	}
	return out
}
