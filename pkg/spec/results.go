package spec

import (
	"fmt"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Which item results a parallel block keeps in memory.
const (
	// ResultsAll keeps every item's result: steps.<id>.results and
	// outputs hold them all, index for index. Left to its default, a
	// block keeps all results up to DefaultKeptResults items and only the
	// failures beyond; set explicitly, it has no limit.
	ResultsAll = "all"
	// ResultsFailures keeps only failed items (each with its index); the
	// summary still counts every item.
	ResultsFailures = "failures"
)

// DefaultKeptResults is how many results a block whose results: is left
// to its default keeps before it keeps only failures: about 100 MB of
// results at most, whatever the item count.
const DefaultKeptResults = 100_000

// ResultsFile is a file that receives every item's result as one JSON
// line, appended as items finish: `results_file: out.jsonl`, or a path
// computed from the run's inputs, `results_file: ${{ inputs.out }}`.
type ResultsFile struct {
	Pos Pos
	// File is the path as written; Path is resolved against the workflow
	// file's directory and cleaned, or empty when the path holds an
	// expression.
	File, Path string
	dir        string
	// Expr, when set, computes the path when the run starts, before any
	// step: it may read inputs and run, never env, steps or the item.
	Expr *Template
}

// Resolve returns the file's path, resolved against the workflow file's
// directory: Path, or Expr evaluated against env (Scope.Vars of the run,
// before any step).
func (rf *ResultsFile) Resolve(env map[string]any) (string, error) {
	if rf.Expr == nil {
		return rf.Path, nil
	}
	v, err := rf.Expr.Eval(env)
	if err != nil {
		return "", err
	}
	path := Text(v)
	if strings.TrimSpace(path) == "" {
		return "", fmt.Errorf("%s: results_file %s is empty", rf.Pos, rf.File)
	}
	return rf.resolve(path), nil
}

// resolve returns path against the workflow file's directory, cleaned
// (filepath.Clean), absolute or not: the file opened is the one that
// CleanPath names, checks (conflicts, the state directory) included, and
// not another one that "x/.." reaches when x is a symlink.
func (rf *ResultsFile) resolve(path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(rf.dir, path)
}

// FieldRef is one steps.<id>.<field> read by an expression; Offset is the
// field's rune offset in the expression's source.
type FieldRef struct {
	ID, Field string
	Offset    int
}

// results parses results: and results_file:.
func (p *loader) results(b *Parallel, f map[string]field, sc *scope) {
	b.Results = ResultsAll
	if v, ok := f["results"]; ok {
		modes := []string{ResultsAll, ResultsFailures}
		if s, ok := p.str(v.value, "results"); ok {
			if contains(modes, s) {
				b.Results, b.ResultsSet = s, true
			} else {
				n := deref(v.value)
				p.errorf(n.Line, n.Column, unknownKeyDetail(s, modes), "results must be all or failures, not %q", s)
			}
		}
	}
	if v, ok := f["results_file"]; ok {
		n := deref(v.value)
		s, ok := p.str(n, "results_file")
		switch {
		case !ok:
		case strings.TrimSpace(s) == "":
			p.errorf(n.Line, n.Column, "name a file such as results.jsonl", "results_file is empty")
		case containsExpr(s):
			p.resultsFileExpr(b, n, sc)
		default:
			rf := &ResultsFile{Pos: Pos{p.file, n.Line, n.Column}, File: s, dir: p.wf.Dir}
			rf.Path = rf.resolve(s)
			b.ResultsFile = rf
		}
	}
}

// resultsFileExpr compiles a results_file that holds expressions. They
// are evaluated when the run starts, so that the file is checked and its
// directory made before the first step: they may read inputs and run, as
// items_from's do, not steps (which have not run) nor the item (one file
// serves the block).
func (p *loader) resultsFileExpr(b *Parallel, n *yaml.Node, sc *scope) {
	rs := *sc
	rs.pathOf, rs.itemVar, rs.allowItems, rs.blockItem, rs.statusFuncs = "results_file", b.As, true, "", false
	t := p.template(n, &rs, p.src)
	for _, x := range t.Exprs() {
		if x.UsesItem {
			p.errorf(x.Pos.Line, x.Pos.Column, "one file receives the results of every item: use inputs or run", "results_file cannot read the item or index")
			return
		}
	}
	if t.IsLiteral() {
		return // its errors are reported
	}
	b.ResultsFile = &ResultsFile{Pos: Pos{p.file, n.Line, n.Column}, File: n.Value, Expr: t, dir: p.wf.Dir}
}

// checkKeptReads reports expressions that read the outputs of a block
// that keeps only its failures: they would see nothing useful.
func (p *loader) checkKeptReads() {
	w := p.wf
	for _, s := range append(append([]*Step{}, w.Steps...), w.Finally...) {
		p.checkReads(s.ID, exprsOf(s))
	}
	for _, o := range w.Outputs {
		p.checkReads("", o.Value.Exprs())
	}
}

// markOutputReads sets Parallel.OutputsRead on the blocks whose outputs
// some expression may read.
func (p *loader) markOutputReads() {
	w := p.wf
	all := append(append([]*Step{}, w.Steps...), w.Finally...)
	var exprs []*Expr
	for _, s := range all {
		exprs = append(exprs, exprsOf(s)...)
	}
	for _, o := range w.Outputs {
		exprs = append(exprs, o.Value.Exprs()...)
	}
	for _, x := range exprs {
		if x.ReadsAllSteps {
			for _, s := range all {
				if s.Parallel != nil {
					s.Parallel.OutputsRead = true
				}
			}
			return
		}
		for _, id := range x.ReadsOutputs {
			if s := w.Step(id); s != nil && s.Parallel != nil {
				s.Parallel.OutputsRead = true
			}
		}
	}
}

func (p *loader) checkReads(reader string, exprs []*Expr) {
	for _, x := range exprs {
		for _, r := range x.Reads {
			dep := p.wf.Step(r.ID)
			if dep == nil || dep.Parallel == nil || dep.Parallel.Results != ResultsFailures || r.Field != "outputs" {
				continue
			}
			detail := fmt.Sprintf("step %q keeps only its failed items; set results: all on it, read steps.%s.results (the failed items) or steps.%s.summary", r.ID, r.ID, r.ID)
			if dep.Parallel.ResultsFile != nil {
				detail += ", or read " + dep.Parallel.ResultsFile.File + " in a later step"
			}
			what := "output"
			if reader != "" {
				what = fmt.Sprintf("step %q", reader)
			}
			p.at(x, r.Offset, detail, "%s reads steps.%s.outputs, but %q has results: failures", what, r.ID, r.ID)
		}
	}
}
