package spec

import (
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"go.yaml.in/yaml/v3"
)

// DefaultMaxItems is the largest fan-out a parallel block allows unless it
// sets max_items: a guard against a runaway expression.
const DefaultMaxItems = 1_000_000

// Parallel is a step's parallel: block: the step runs once per item on a
// bounded pool of workers.
type Parallel struct {
	Pos Pos
	// Items is either List (a literal list, whose entries may hold
	// expressions) or Expr (one expression that yields a list).
	List *Value
	Expr *Expr
	// As names the item variable (default "item").
	As string
	// Key is the item's stable identity; nil means its index.
	Key *Template
	// Workers bounds concurrency; 0 means the run's default. WorkersExpr,
	// when set, computes it when the block starts.
	Workers     int
	WorkersExpr *Expr
	// OnError is "cancel" or "continue".
	OnError string
	// MaxFailures are the failures tolerated before OnError applies: a
	// count, or a percentage of the items when MaxFailuresPct is set.
	MaxFailures    int
	MaxFailuresPct float64
	MaxItems       int
	// Rate, when set, caps how often items start; see Rate.
	Rate *Rate
	// Duration, when above 0, stops starting items once that long has
	// passed since the block started: a load test runs for a time, not a
	// count. Items never started count as not started, not as failed.
	Duration time.Duration
	// Range and ItemsFrom are items that the block iterates lazily: a
	// range of integers, or a file read as workers free up. Matrix, the
	// combinations of named axes, is produced lazily too.
	Range     *Range
	ItemsFrom *ItemsFrom
	Matrix    *Matrix
	// Limits cap the items that share a key value running at once.
	Limits []*Limit
	// Results says which item results are kept in memory (ResultsAll or
	// ResultsFailures); ResultsSet is false when it is the default.
	// ResultsFile, when set, receives every item's result as a JSON line.
	Results     string
	ResultsSet  bool
	ResultsFile *ResultsFile
	// StaticCount is the number of items when it is known without running
	// (a literal list or a constant range), else -1.
	StaticCount int
	// Local is `remote: false`: the items run in the process that runs
	// the workflow, even when the run sends blocks to a cluster.
	Local bool
	// OutputsRead says that an expression of the workflow (a step's, a
	// finally step's or an output's) may read the block's outputs or
	// results; when false, its results are written (report, journal,
	// results file) but never evaluated.
	OutputsRead bool
}

// OnError values.
const (
	OnErrorCancel   = "cancel"
	OnErrorContinue = "continue"
)

// ParallelKeys are the keys of a parallel: block. The JSON schema is
// generated from this list: add a key here and run go generate ./schema.
var ParallelKeys = []string{"items", "as", "key", "workers", "on_error", "max_failures", "max_items", "rate", "duration", "items_from", "results", "results_file", "matrix", "limit", "remote"}

// parallel parses a parallel block. sc is the step's scope: items are
// evaluated in it, before the item variable exists.
func (p *loader) parallel(n *yaml.Node, sc *scope) *Parallel {
	f := p.fields(n, "parallel block", ParallelKeys)
	if f == nil {
		return nil
	}
	b := &Parallel{Pos: Pos{p.file, n.Line, n.Column}, As: "item", OnError: OnErrorCancel, MaxItems: DefaultMaxItems, StaticCount: -1}
	if v, ok := f["as"]; ok {
		if as, ok := p.str(v.value, "as"); ok {
			switch {
			case !identifier.MatchString(as):
				p.errorf(v.value.Line, v.value.Column, "the item variable is an identifier", "invalid item variable name %q", as)
			case contains([]string{"inputs", "env", "steps", "run", "index"}, as):
				p.errorf(v.value.Line, v.value.Column, "pick another name", "item variable %q would hide a name in scope", as)
			case !usableVariable(as):
				p.errorf(v.value.Line, v.value.Column, "pick another name, such as item", "item variable %q is a word of the expression language, so expressions could not read it", as)
			default:
				b.As = as
			}
		}
	}
	if v, ok := f["max_items"]; ok {
		b.MaxItems = p.positiveInt(v.value, "max_items")
	}
	itemScope := *sc
	itemScope.itemVar, itemScope.allowItems = b.As, false
	if v, ok := f["items"]; ok {
		p.items(b, deref(v.value), &itemScope)
		if w, ok := f["items_from"]; ok {
			p.errorf(w.key.Line, w.key.Column, "keep one of them", "a parallel block has items or items_from, not both")
		}
	} else if v, ok := f["items_from"]; ok {
		p.itemsFrom(b, deref(v.value), itemScope)
	} else if v, ok := f["matrix"]; ok {
		p.matrix(b, deref(v.value), &itemScope)
	} else {
		p.errorf(n.Line, n.Column, "add `items:` with a list or an expression such as ${{ 1..10 }}; or items_from: a file, or matrix: named lists", "parallel block has no items")
	}
	if m, ok := f["matrix"]; ok && b.Matrix == nil {
		for _, other := range []string{"items", "items_from"} {
			if _, ok := f[other]; ok {
				p.errorf(m.key.Line, m.key.Column, "keep one of them: a matrix makes the items", "a parallel block has %s or matrix, not both", other)
				break
			}
		}
	}
	inner := *sc
	inner.itemVar, inner.allowItems, inner.item = b.As, true, b.shape()
	if v, ok := f["key"]; ok {
		if kn := deref(v.value); kn.Kind != yaml.ScalarNode {
			p.errorf(kn.Line, kn.Column, "", "key must be an expression such as ${{ item.name }}, not %s", kindName(kn))
		} else {
			b.Key = p.template(kn, &inner, p.src)
			if items, ok := f["items"]; ok && b.Key != nil {
				p.checkLiteralKeys(b, deref(items.value))
			}
		}
	}
	if v, ok := f["workers"]; ok {
		wn := deref(v.value)
		if wn.Kind == yaml.ScalarNode && containsExpr(wn.Value) {
			t := p.template(wn, sc, p.src)
			if b.WorkersExpr = t.Single(); b.WorkersExpr == nil && len(t.Exprs()) > 0 {
				p.errorf(wn.Line, wn.Column, "", "workers must be one ${{ }} expression or a positive integer")
			}
		} else {
			b.Workers = p.positiveInt(wn, "workers")
			if b.Workers > MaxWorkers {
				p.errorf(wn.Line, wn.Column, "a block cannot usefully run more items at once; lower workers", "workers %d exceeds the limit of %d", b.Workers, MaxWorkers)
				b.Workers = MaxWorkers
			}
		}
	}
	if v, ok := f["on_error"]; ok {
		if s, ok := p.str(v.value, "on_error"); ok {
			if s != OnErrorCancel && s != OnErrorContinue {
				p.errorf(v.value.Line, v.value.Column, unknownKeyDetail(s, []string{OnErrorCancel, OnErrorContinue}), "on_error must be cancel or continue, not %q", s)
			} else {
				b.OnError = s
			}
		}
	}
	if v, ok := f["max_failures"]; ok {
		p.maxFailures(b, v.value)
	}
	if v, ok := f["rate"]; ok {
		b.Rate = p.rate(deref(v.value))
	}
	if v, ok := f["limit"]; ok {
		b.Limits = p.limits(deref(v.value), &inner, sc)
	}
	if v, ok := f["duration"]; ok {
		b.Duration = p.duration(deref(v.value), "duration")
	}
	p.results(b, f, sc)
	if b.Matrix != nil {
		p.staticMatrix(b, deref(f["matrix"].value))
	}
	p.remote(b, f)
	return b
}

func (p *loader) items(b *Parallel, n *yaml.Node, sc *scope) {
	switch {
	case n.Kind == yaml.SequenceNode:
		b.List = p.value(n, sc)
		b.StaticCount = len(n.Content)
	case n.Kind == yaml.ScalarNode && p.rangeItems(b, n, sc):
	case n.Kind == yaml.ScalarNode && containsExpr(n.Value):
		t := p.template(n, sc, p.src)
		if b.Expr = t.Single(); b.Expr == nil {
			if len(t.Exprs()) > 0 {
				p.errorf(n.Line, n.Column, "write items as one ${{ }} expression that yields a list", "items must be a list, not a string")
			}
			return
		}
		b.StaticCount = constantRange(b.Expr.Source)
	default:
		p.errorf(n.Line, n.Column, "write a YAML list, or one expression such as ${{ 1..10 }} or ${{ steps.list.output }}", "items must be a list or an expression, not %s", kindName(n))
		return
	}
	if b.StaticCount > b.MaxItems {
		p.errorf(n.Line, n.Column, "raise max_items if this many items is intended", "%d items exceed max_items %d", b.StaticCount, b.MaxItems)
	}
}

// MaxWorkers bounds a block's workers: each is a goroutine with its own
// buffers, and a typo such as 20000000 must be an error, not gigabytes.
const MaxWorkers = 100_000

// usableVariable reports whether an expression can read a variable of
// this name: true, nil, not, in and the other words of the expression
// language parse as themselves, so an item variable so named would be
// unreachable. It asks the expression language rather than keeping a
// list that could fall behind it.
func usableVariable(name string) bool {
	prog, err := expr.Compile(name, expr.Env(map[string]any{name: 0}))
	if err != nil {
		return false
	}
	out, err := expr.Run(prog, map[string]any{name: 0})
	return err == nil && out == 0
}

// constantRange returns the size of `a..b` with integer literals, or -1.
func constantRange(src string) int {
	tree, err := parser.Parse(src)
	if err != nil {
		return -1
	}
	bin, ok := tree.Node.(*ast.BinaryNode)
	if !ok || bin.Operator != ".." {
		return -1
	}
	lo, ok1 := intLiteral(bin.Left)
	hi, ok2 := intLiteral(bin.Right)
	if !ok1 || !ok2 {
		return -1
	}
	n, _ := RangeLen(lo, hi, 1, true)
	return n
}

func intLiteral(n ast.Node) (int, bool) {
	switch n := n.(type) {
	case *ast.IntegerNode:
		return n.Value, true
	case *ast.UnaryNode:
		if v, ok := intLiteral(n.Node); ok && n.Operator == "-" {
			return -v, true
		}
	}
	return 0, false
}

func (p *loader) maxFailures(b *Parallel, n *yaml.Node) {
	s := strings.TrimSpace(n.Value)
	if n.Kind == yaml.ScalarNode {
		if pct, ok := strings.CutSuffix(s, "%"); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(pct), 64); err == nil && f >= 0 && f <= 100 {
				b.MaxFailuresPct = f
				b.MaxFailures = -1
				return
			}
		} else if i, err := strconv.Atoi(s); err == nil && i >= 0 {
			b.MaxFailures = i
			return
		}
	}
	p.errorf(n.Line, n.Column, `write a count such as 3, or a share of the items such as "10%"`, "max_failures must be N or \"P%%\", not %s", kindName(n))
}

// Tolerated returns how many failures a block of total items tolerates.
func (b *Parallel) Tolerated(total int) int {
	if b.MaxFailures >= 0 {
		return b.MaxFailures
	}
	return int(b.MaxFailuresPct / 100 * float64(total))
}
