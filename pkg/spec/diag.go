package spec

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Severity says whether a Diagnostic makes a workflow invalid.
type Severity int

const (
	// Error makes the workflow invalid: it will not run.
	Error Severity = iota
	// Warning points at something suspicious that still runs.
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// MarshalText renders the severity as "error" or "warning".
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Pos is a position in a workflow file. Line and Column count from 1;
// Column counts characters, not bytes. A zero Line means the whole file.
type Pos struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Diagnostic is one problem found in a workflow file, as data: rendering
// happens in one place (Diagnostics.Format and the CLI).
type Diagnostic struct {
	Severity Severity `json:"severity"`
	// Summary is one line, lower case, without a trailing period.
	Summary string `json:"summary"`
	// Detail explains further or suggests a fix; it may be empty.
	Detail string `json:"detail,omitempty"`
	Pos
	// NoSnippet keeps the file's lines out of the rendering: the file is
	// not a workflow and may hold anything, credentials included.
	NoSnippet bool `json:"-"`
	// Source is the text of File as it was parsed, for rendering the
	// diagnostic's line: the file is not read again, since by then it may
	// have changed, or its path may lead elsewhere. Nil when the file was
	// not parsed, or with NoSnippet.
	Source []byte `json:"-"`
}

func (d *Diagnostic) Error() string {
	s := fmt.Sprintf("%s: %s", d.Pos, d.Summary)
	if d.Detail != "" {
		s += " (" + d.Detail + ")"
	}
	return s
}

// Diagnostics is a list of problems. As an error it reports the errors
// among them, one per line.
type Diagnostics []*Diagnostic

// HasErrors reports whether any diagnostic is an Error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Err returns ds as an error when it has errors, or nil.
func (ds Diagnostics) Err() error {
	if ds.HasErrors() {
		return ds
	}
	return nil
}

func (ds Diagnostics) Error() string {
	lines := make([]string, 0, len(ds))
	for _, d := range ds {
		if d.Severity == Error {
			lines = append(lines, d.Error())
		}
	}
	return strings.Join(lines, "\n")
}

// Sort orders diagnostics by file, line and column, keeping the order in
// which they were found for equal positions.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Pos, ds[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// dedupe drops diagnostics that repeat the one before them: a scalar
// reached through several aliases is reported once.
func (ds Diagnostics) dedupe() Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if len(out) > 0 && d.same(out[len(out)-1]) {
			continue
		}
		out = append(out, d)
	}
	return out
}

// same reports whether d and e say the same thing at the same place.
func (d *Diagnostic) same(e *Diagnostic) bool {
	return d.Severity == e.Severity && d.Summary == e.Summary && d.Detail == e.Detail && d.Pos == e.Pos && d.NoSnippet == e.NoSnippet
}

// Count returns the number of errors and warnings.
func (ds Diagnostics) Count() (errors, warnings int) {
	for _, d := range ds {
		if d.Severity == Error {
			errors++
		} else {
			warnings++
		}
	}
	return errors, warnings
}

// diags collects diagnostics for one file.
type diags struct {
	file string
	list Diagnostics
	// text holds the scalars whose value is what they say as written —
	// read as text (an env: value, a string field), or as the number its
	// digits say (default: 08 of an integer input): a number there is not
	// one YAML changes (checkNumbers).
	text map[*yaml.Node]bool
}

func (c *diags) errorf(line, col int, detail, format string, args ...any) {
	c.list = append(c.list, &Diagnostic{
		Severity: Error,
		Summary:  fmt.Sprintf(format, args...),
		Detail:   detail,
		Pos:      Pos{File: c.file, Line: line, Column: col},
	})
}

func (c *diags) warnf(line, col int, detail, format string, args ...any) {
	c.list = append(c.list, &Diagnostic{
		Severity: Warning,
		Summary:  fmt.Sprintf(format, args...),
		Detail:   detail,
		Pos:      Pos{File: c.file, Line: line, Column: col},
	})
}

// didYouMean returns the detail text suggesting s, or "" when s is empty.
func didYouMean(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf("did you mean %q?", s)
}
