package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/flowrun/flowrun/pkg/spec"
)

// ValidateCmd checks workflow files without running them.
type ValidateCmd struct {
	Files  []string  `arg:"" name:"file" help:"Workflow files to check."`
	Format string    `help:"Output format: text, json or github (workflow command annotations)." enum:"text,json,github" default:"text"`
	Paths  pathFlags `embed:""`
}

// Help shows examples.
func (ValidateCmd) Help() string {
	return `Every problem in every file is reported, each with its file, line and
column; the exit status is 2 when any file has an error.

Examples:
  flowrun validate workflow.yaml
  flowrun validate --format github workflows/*.yaml`
}

// jsonResult is the stable shape of --format json.
type jsonResult struct {
	Valid        bool             `json:"valid"`
	ErrorCount   int              `json:"error_count"`
	WarningCount int              `json:"warning_count"`
	Diagnostics  []jsonDiagnostic `json:"diagnostics"`
}

type jsonDiagnostic struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

// Run validates the files.
func (c *ValidateCmd) Run(e *env) error {
	var all spec.Diagnostics
	for _, f := range c.Files {
		_, ds := spec.Load(f, c.Paths.options())
		all = append(all, ds...)
	}
	errs, warns := all.Count()
	switch c.Format {
	case "json":
		res := jsonResult{Valid: errs == 0, ErrorCount: errs, WarningCount: warns, Diagnostics: []jsonDiagnostic{}}
		for _, d := range all {
			res.Diagnostics = append(res.Diagnostics, jsonDiagnostic{d.Severity.String(), d.Summary, d.Detail, d.File, d.Line, d.Column})
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	case "github":
		for _, d := range all {
			msg := d.Summary
			if d.Detail != "" {
				msg += " (" + d.Detail + ")"
			}
			fmt.Fprintf(e.stdout, "::%s file=%s,line=%d,col=%d::%s\n", d.Severity, ghEscapeProp(d.File), d.Line, d.Column, ghEscape(msg))
		}
	default:
		all.Format(e.stdout, sourcesOf(all))
		if errs > 0 || warns > 0 {
			fmt.Fprintf(e.stdout, "%d error(s), %d warning(s) in %d file(s)\n", errs, warns, len(c.Files))
		}
	}
	if errs > 0 {
		return exitError{ExitInvalid}
	}
	return nil
}

// ghEscape escapes a workflow command message as GitHub Actions reads it.
func ghEscape(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghEscapeProp(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
