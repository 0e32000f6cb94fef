package spec

import (
	"math"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"go.yaml.in/yaml/v3"
)

// Range is a parallel block's items written as a range of integers,
// `${{ a..b }}` (b included) or `${{ range(a, b, step) }}` (b excluded,
// step 1 by default). The block iterates it lazily: a range of a million
// integers is never a list in memory. Its ends are separate expressions
// evaluated when the block starts.
type Range struct {
	Pos      Pos
	From, To *Expr
	// Step is nil for a step of 1.
	Step *Expr
	// Inclusive is true for a..b, false for range(a, b).
	Inclusive bool
}

// Exprs returns the range's expressions.
func (r *Range) Exprs() []*Expr {
	out := []*Expr{r.From, r.To}
	if r.Step != nil {
		out = append(out, r.Step)
	}
	return out
}

// rangeItems recognises items that are exactly one range expression and
// compiles its ends separately, so that the block iterates the range
// instead of materialising it. It reports whether n was a range.
func (p *loader) rangeItems(b *Parallel, n *yaml.Node, sc *scope) bool {
	v := strings.TrimSpace(n.Value)
	lead := strings.Index(n.Value, v)
	if !strings.HasPrefix(v, "${{") || len(v) < 5 || closing(v[3:]) != len(v)-5 {
		return false
	}
	src := v[3 : len(v)-2]
	tree, err := parser.Parse(src)
	if err != nil {
		return false
	}
	// Each end is a substring of src, at a rune offset.
	var ends []arg
	inclusive := false
	switch node := tree.Node.(type) {
	case *ast.BinaryNode:
		if node.Operator != ".." {
			return false
		}
		r := []rune(src)
		from, to := node.Location().From, node.Location().To
		if from < 0 || to > len(r) || string(r[from:to]) != ".." {
			return false
		}
		ends = []arg{{string(r[:from]), 0}, {string(r[to:]), to}}
		inclusive = true
	case *ast.CallNode:
		callee, ok := node.Callee.(*ast.IdentifierNode)
		if !ok || callee.Value != "range" {
			return false
		}
		open := strings.IndexByte(src, '(')
		close := strings.LastIndexByte(src, ')')
		args := splitArgs(src[open+1 : close])
		if len(args) < 2 || len(args) > 3 || len(args) != len(node.Arguments) {
			line, col := valuePos(n, lead+3+len(src)-len(strings.TrimLeft(src, " ")), p.src)
			p.errorf(line, col, "write range(from, to) or range(from, to, step)", "range takes 2 or 3 arguments, not %d", len(node.Arguments))
			b.Range = &Range{} // handled: do not compile it as a list
			return true
		}
		for _, a := range args {
			ends = append(ends, arg{a.text, len([]rune(src[:open+1+a.off]))})
		}
	default:
		return false
	}
	for _, e := range ends {
		if _, err := parser.Parse(e.text); err != nil {
			return false // such as (1..3): compile the whole expression
		}
	}
	rg := &Range{Inclusive: inclusive}
	line, col := valuePos(n, lead, p.src)
	rg.Pos = Pos{p.file, line, col}
	exprs := make([]*Expr, len(ends))
	for i, e := range ends {
		byteOff := len(string([]rune(src)[:e.off]))
		line, col := valuePos(n, lead+3+byteOff, p.src)
		exprs[i] = p.compile(e.text, line, col, sc, false)
		if exprs[i] != nil && !intTyped(exprs[i]) {
			p.errorf(line, col, "write an integer expression such as inputs.count", "a range's ends and step must be integers")
		}
	}
	rg.From, rg.To = exprs[0], exprs[1]
	if len(exprs) == 3 {
		rg.Step = exprs[2]
	}
	b.Range = rg
	b.StaticCount = staticRangeCount(ends, inclusive)
	return true
}

// intTyped reports whether an expression may yield an integer.
func intTyped(e *Expr) bool {
	t := e.program.Node().Type()
	if t == nil {
		return true
	}
	switch t.Kind().String() {
	case "int", "interface", "int64", "int32":
		return true
	}
	return false
}

// staticRangeCount is the size of a range whose ends (and step) are
// integer literals, else -1.
func staticRangeCount(ends []arg, inclusive bool) int {
	lits := []int{0, 0, 1}
	for i, e := range ends {
		v, err := strconv.Atoi(strings.TrimSpace(e.text))
		if err != nil {
			return -1
		}
		lits[i] = v
	}
	n, _ := RangeLen(lits[0], lits[1], lits[2], inclusive)
	return n
}

// RangeLen is the number of integers in a range, and false when step is 0.
// It is computed without overflow: a range longer than math.MaxInt (only
// possible near the ends of the int range) counts as math.MaxInt, which
// every max_items refuses.
func RangeLen(from, to, step int, inclusive bool) (int, bool) {
	if step == 0 {
		return 0, false
	}
	// span is the distance from from to to in the step's direction, as an
	// unsigned number: the difference of two ints always fits in uint64.
	var span, stride uint64
	if step > 0 {
		if to < from || to == from && !inclusive {
			return 0, true
		}
		span, stride = uint64(to)-uint64(from), uint64(step)
	} else {
		if to > from || to == from && !inclusive {
			return 0, true
		}
		span, stride = uint64(from)-uint64(to), -uint64(step)
	}
	// Inclusive: from, from+step, ... up to to: span/stride + 1.
	// Exclusive: the same over span-1 (span > 0 here).
	if !inclusive {
		span--
	}
	q := span / stride
	if q >= math.MaxInt {
		return math.MaxInt, true
	}
	return int(q) + 1, true
}

// arg is a piece of an expression's text and its offset in the whole.
type arg struct {
	text string
	off  int
}

// splitArgs splits a call's argument list at its top-level commas.
func splitArgs(s string) []arg {
	var out []arg
	depth, start := 0, 0
	scanCode(s, func(i int) bool {
		switch s[i] {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, arg{s[start:i], start})
				start = i + 1
			}
		}
		return true
	})
	if strings.TrimSpace(s[start:]) != "" || len(out) > 0 {
		out = append(out, arg{s[start:], start})
	}
	return out
}
