package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/internal/regular"
)

// ItemsFrom streams a parallel block's items from a file, one item a
// line, read as the workers free up: `items_from: {file: ids.txt, format:
// lines}`. Lines are strings, jsonl lines are JSON values, csv rows are
// objects keyed by the header row.
//
// The file may be an expression over inputs and run (`items_from: ${{
// inputs.file }}`): Expr is then set, and Resolve evaluates it when the
// block starts. Either way the path is relative to the workflow file's
// directory and must lie inside the directories the workflow may read
// (--allow-path), checked on the path the block opens.
type ItemsFrom struct {
	// Pos is where the file is named.
	Pos Pos
	// File is the path as written (with its ${{ }} when it holds an
	// expression); Path is the path tried: File resolved against the
	// workflow file's directory, absolute. Path is "" while Expr is
	// unevaluated.
	File, Path string
	// Format is lines, jsonl or csv: as given, else guessed from the
	// path's extension; "" while it awaits an evaluated path.
	Format string
	// Expr is the file name when it holds an expression, else nil.
	Expr *Template

	// dir is the workflow file's directory; paths its policy, by which
	// Open refuses a file outside the directories it may read.
	dir   string
	paths *pathPolicy
}

// Item file formats.
const (
	FormatLines = "lines"
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
)

var itemsFromKeys = []string{"file", "format"}

// itemsFrom parses items_from: a file name, or {file, format}; the file
// may be an expression over inputs and run, compiled in sc.
func (p *loader) itemsFrom(b *Parallel, n *yaml.Node, sc scope) {
	src := &ItemsFrom{dir: p.wf.Dir, paths: p.calls.paths}
	fileNode, formatNode, what := n, (*yaml.Node)(nil), "items_from"
	switch n.Kind {
	case yaml.ScalarNode:
	case yaml.MappingNode:
		f := p.fields(n, "items_from", itemsFromKeys)
		v, ok := f["file"]
		if !ok {
			p.errorf(n.Line, n.Column, "add `file: ids.txt`", "items_from has no file")
			return
		}
		fileNode, what = deref(v.value), "items_from file"
		if v, ok := f["format"]; ok {
			formatNode = deref(v.value)
			src.Format, _ = p.str(v.value, "format")
		}
	default:
		p.errorf(n.Line, n.Column, "write items_from: {file: ids.txt, format: lines}", "items_from must be a file name or a mapping, not %s", kindName(n))
		return
	}
	src.Pos = Pos{p.file, fileNode.Line, fileNode.Column}
	var ok bool
	if src.File, ok = p.str(fileNode, what); !ok {
		return
	}
	if strings.TrimSpace(src.File) == "" {
		p.errorf(fileNode.Line, fileNode.Column, "name a file, relative to the workflow file", "items_from has an empty file name")
		return
	}
	formats := []string{FormatLines, FormatJSONL, FormatCSV}
	if src.Format != "" && !contains(formats, src.Format) {
		p.errorf(formatNode.Line, formatNode.Column, unknownKeyDetail(src.Format, formats), "items_from format must be lines, jsonl or csv, not %q", src.Format)
		return
	}
	if containsExpr(src.File) {
		sc.pathOf, sc.itemVar, sc.blockItem, sc.statusFuncs = "items_from", "", "", false
		t := p.template(fileNode, &sc, p.src)
		for _, e := range t.Exprs() {
			if typ := e.program.Node().Type(); typ != nil && typ.Kind().String() != "string" && typ.Kind().String() != "interface" {
				p.errorf(e.Pos.Line, e.Pos.Column, "the file name is text: inputs.file, or \"ids-\" + run.id + \".txt\"", "items_from must be a file name, not %s", exprTypeName(typ.String()))
			}
		}
		if !t.IsLiteral() {
			src.Expr = t
			b.ItemsFrom = src
		}
		return
	}
	if src.Format == "" {
		src.Format = formatFor(src.File)
	}
	src.Path = absPath(src.dir, src.File)
	// Only a path that is outside as written, or through a symlink that
	// exists already, is an error now; Open checks again when the block
	// runs. Whether the file exists is checked once the step's
	// dependencies are known (checkItemsFiles).
	switch _, _, err := src.paths.resolve(src.Path, src.File); {
	case errors.Is(err, errOutside):
		p.errorf(fileNode.Line, fileNode.Column, "", "items_from: %v", err)
		return
	case err == nil:
		src.Path = shown(src.Path)
	}
	b.ItemsFrom = src
}

// absPath is file resolved against dir, absolute when the working
// directory is known: the path a person can open whatever their own. Its
// ".." are kept (joinFile): the path names the file the system opens.
func absPath(dir, file string) string {
	return tidy(absolute(joinFile(dir, file)))
}

// checkItemsFiles reports a literal items_from file that does not exist
// or is not a regular file: an error for a step that depends on no other
// (nothing can write it before the block starts), a warning otherwise (a
// step upstream may write it).
func (p *loader) checkItemsFiles() {
	for _, s := range append(append([]*Step{}, p.wf.Steps...), p.wf.Finally...) {
		if s.Parallel == nil || s.Parallel.ItemsFrom == nil || s.Parallel.ItemsFrom.Expr != nil {
			continue
		}
		src := s.Parallel.ItemsFrom
		dir, rel, err := src.paths.resolve(src.Path, src.File)
		if errors.Is(err, errOutside) {
			continue // reported already
		}
		var info fs.FileInfo
		if err == nil {
			info, err = os.Stat(filepath.Join(dir, rel))
		}
		switch {
		case errors.Is(err, fs.ErrNotExist) && len(s.Deps) > 0:
			p.warnf(src.Pos.Line, src.Pos.Column, "a step upstream may write it; if none does, the block fails when it starts",
				"items_from file %s does not exist (yet)", src.Path)
		case errors.Is(err, fs.ErrNotExist):
			p.errorf(src.Pos.Line, src.Pos.Column, "the path is relative to the workflow file's directory",
				"items_from file %s does not exist", src.Path)
		case err != nil:
			p.errorf(src.Pos.Line, src.Pos.Column, "", "items_from: %v", err)
		case !info.Mode().IsRegular():
			p.errorf(src.Pos.Line, src.Pos.Column, "items_from reads a regular file, one item a line",
				"items_from %s is not a regular file (%s)", src.Path, regular.Kind(info.Mode()))
		}
	}
}

// Resolve returns the items file the block opens under vars (the step's
// scope: inputs and run): s itself when its file is written out, else a
// copy with the file name evaluated, resolved against the workflow file's
// directory and its format guessed from it when not given. The path
// policy applies when the copy is opened.
func (s *ItemsFrom) Resolve(vars map[string]any) (*ItemsFrom, error) {
	if s.Expr == nil {
		return s, nil
	}
	v, err := s.Expr.Eval(vars)
	if err != nil {
		return nil, err
	}
	file, ok := v.(string)
	switch {
	case !ok:
		return nil, fmt.Errorf("%s: items_from %s must be a file name, got %s", s.Pos, s.File, describeValue(v))
	case strings.TrimSpace(file) == "":
		return nil, fmt.Errorf("%s: items_from %s is an empty file name", s.Pos, s.File)
	}
	cp := *s
	cp.Expr, cp.File, cp.Path = nil, file, absPath(s.dir, file)
	if cp.Format == "" {
		cp.Format = formatFor(file)
	}
	return &cp, nil
}

// describeValue names a value that is not what was expected.
func describeValue(v any) string {
	if v == nil {
		return "null"
	}
	return fmt.Sprintf("%T %s", v, Text(v))
}

// formatFor guesses a file's format from its extension.
func formatFor(file string) string {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".jsonl", ".ndjson":
		return FormatJSONL
	case ".csv":
		return FormatCSV
	}
	return FormatLines
}
