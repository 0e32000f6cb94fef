package spec

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/internal/suggest"
)

// Expr is one compiled expression, the text between `${{` and `}}`.
type Expr struct {
	// Source is the expression's text.
	Source string
	// Pos is where Source starts in the workflow file.
	Pos Pos
	// Refs are the step ids the expression reads through steps.<id>.
	Refs []string
	// UsesItem reports whether the expression reads the item variable or
	// index: its value differs between the items of a parallel block.
	// UsesIndex reports whether it reads index.
	UsesItem, UsesIndex bool
	// Reads are the steps.<id>.<field> the expression reads, where each
	// field is written out.
	Reads []FieldRef
	// Status holds the status functions the expression calls (only an
	// if: may call them).
	Status StatusFuncs
	// ReadsOutputs are the steps whose outputs or results the expression
	// may read: every step it reads through steps.<id> but for its status
	// or summary alone. ReadsAllSteps says it reads steps as a whole, by
	// a computed id or through $env, which may be any step's outputs.
	ReadsOutputs  []string
	ReadsAllSteps bool

	program *vm.Program
	// The scalar the expression was found in, its offset in the scalar's
	// value and the file: positions inside the expression are mapped
	// through them, past YAML's quotes, escapes and folded lines.
	node     *yaml.Node
	valueOff int
	src      *lineIndex
	// The scope and kind it was compiled in, to check it again once the
	// output types of the steps it reads are known (output.go).
	sc     *scope
	asBool bool
}

// Eval runs the expression against env, the run's variables.
func (e *Expr) Eval(env map[string]any) (any, error) {
	v, err := vm.Run(e.program, env)
	if err != nil {
		return nil, fmt.Errorf("%s: ${{ %s }}: %w", e.Pos, strings.TrimSpace(e.Source), unwrapExprErr(err))
	}
	return v, nil
}

// Evaluator evaluates expressions one after another on one virtual
// machine, where Eval sets up a new one each time: for a loop that
// evaluates the same few expressions for many items. It is not safe for
// concurrent use; its zero value is ready to use.
type Evaluator struct{ vm vm.VM }

// Eval is e.Eval(env) on ev's machine; a nil ev is e.Eval.
func (ev *Evaluator) Eval(e *Expr, env map[string]any) (any, error) {
	if ev == nil {
		return e.Eval(env)
	}
	v, err := ev.vm.Run(e.program, env)
	if err != nil {
		return nil, fmt.Errorf("%s: ${{ %s }}: %w", e.Pos, strings.TrimSpace(e.Source), unwrapExprErr(err))
	}
	return v, nil
}

func unwrapExprErr(err error) error {
	var fe *file.Error
	if errors.As(err, &fe) {
		return errors.New(fe.Message)
	}
	return err
}

// bareExpr compiles a scalar that is an expression without braces (if:),
// or a template that is exactly one expression.
func (c *diags) condition(n *yaml.Node, sc *scope, src *lineIndex) *Expr {
	if strings.Contains(n.Value, "${{") {
		t := c.template(n, sc, src)
		if t == nil {
			return nil
		}
		e := t.Single()
		if e == nil && len(t.Exprs()) > 0 {
			c.errorf(n.Line, n.Column, "write the whole condition in one ${{ }}, or without braces", "a condition must be one expression")
			return nil
		}
		if e != nil {
			return c.recompileBool(e, sc)
		}
		return nil
	}
	if strings.TrimSpace(n.Value) == "" {
		c.errorf(n.Line, n.Column, "", "empty condition")
		return nil
	}
	return c.compileAt(n.Value, n, 0, src, sc, true)
}

func (c *diags) recompileBool(e *Expr, sc *scope) *Expr {
	if e.node != nil {
		return c.compileAt(e.Source, e.node, e.valueOff, e.src, sc, true)
	}
	return c.compile(e.Source, e.Pos.Line, e.Pos.Column, sc, true)
}

// compileAt compiles the expression that starts at byte valueOff of the
// scalar n's value.
func (c *diags) compileAt(source string, n *yaml.Node, valueOff int, src *lineIndex, sc *scope, asBool bool) *Expr {
	line, col := valuePos(n, valueOff, src)
	e := &Expr{Source: source, Pos: Pos{c.file, line, col}, node: n, valueOff: valueOff, src: src}
	return c.compileExpr(e, sc, asBool)
}

// Limits on one expression. A longer or more deeply nested expression is
// an error rather than a parser that recurses until the stack runs out.
const (
	maxExprLen   = 16 << 10
	maxExprDepth = 100
	maxExprNodes = 2000
)

// parseConf parses expressions before their names are known: the names
// are checked on the tree, then the expression is compiled against a type
// environment holding only what it reads.
var parseConf = func() *conf.Config {
	c := conf.CreateNew()
	c.MaxNodes = maxExprNodes
	return c
}()

// compile parses, checks and compiles one expression at line:col.
func (c *diags) compile(source string, line, col int, sc *scope, asBool bool) *Expr {
	return c.compileExpr(&Expr{Source: source, Pos: Pos{c.file, line, col}}, sc, asBool)
}

func (c *diags) compileExpr(e *Expr, sc *scope, asBool bool) *Expr {
	source, line, col := e.Source, e.Pos.Line, e.Pos.Column
	if strings.TrimSpace(source) == "" {
		c.errorf(line, col, "", "empty expression")
		return nil
	}
	if len(source) > maxExprLen {
		c.errorf(line, col, "compute large values in a step and read its output", "expression is %d bytes long; the limit is %d", len(source), maxExprLen)
		return nil
	}
	if off := tooDeep(source, maxExprDepth); off >= 0 {
		c.at(e, off, "split it, or compute the value in a step", "expression nests more than %d levels deep", maxExprDepth)
		return nil
	}
	tree, err := parser.ParseWithConfig(source, parseConf)
	if err != nil {
		c.exprError(e, err, sc)
		return nil
	}
	ok, dynamic := true, false
	ast.Walk(&tree.Node, visitor(func(node ast.Node) {
		if !c.checkNames(e, node, sc) {
			ok = false
		}
		if stepsIndexedByValue(node) {
			dynamic = true
		}
	}))
	if !ok {
		return nil
	}
	e.ReadsOutputs, e.ReadsAllSteps = outputReads(tree.Node)
	prog, err := compileTree(tree, sc.env(e.Refs, dynamic), asBool)
	if err != nil {
		c.exprError(e, err, sc)
		return nil
	}
	e.program = prog
	scopeCopy := *sc
	e.sc, e.asBool = &scopeCopy, asBool
	return e
}

// outputReads returns the steps whose outputs or results an expression
// may read (see Expr.ReadsOutputs): every steps.<id> but those read for
// .status or .summary only, and whether it uses steps in any other way
// (steps[x], a function given steps, steps alone, $env: the whole
// environment, steps included), which may read any.
func outputReads(root ast.Node) (ids []string, all bool) {
	byID := map[*ast.MemberNode]string{}      // steps.<id>
	harmless := map[*ast.MemberNode]bool{}    // steps.<id> in steps.<id>.status or .summary
	covered := map[*ast.IdentifierNode]bool{} // steps in steps.<id>
	var idents []*ast.IdentifierNode          // every steps
	ast.Walk(&root, visitor(func(node ast.Node) {
		switch n := node.(type) {
		case *ast.IdentifierNode:
			switch n.Value {
			case "steps":
				idents = append(idents, n)
			case "$env":
				all = true
			}
		case *ast.MemberNode:
			if id, ok := n.Node.(*ast.IdentifierNode); ok && id.Value == "steps" {
				if p, ok := n.Property.(*ast.StringNode); ok {
					byID[n], covered[id] = p.Value, true
				}
			}
			if inner, ok := n.Node.(*ast.MemberNode); ok {
				if p, ok := n.Property.(*ast.StringNode); ok && (p.Value == "status" || p.Value == "summary") {
					harmless[inner] = true
				}
			}
		}
	}))
	for _, id := range idents {
		if !covered[id] {
			all = true
		}
	}
	for n, id := range byID {
		if !harmless[n] && !contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, all
}

// stepsIndexedByValue reports whether node reads steps[x] with a computed
// x, or passes steps as a whole: then every step's type is needed.
func stepsIndexedByValue(node ast.Node) bool {
	switch n := node.(type) {
	case *ast.MemberNode:
		if id, ok := n.Node.(*ast.IdentifierNode); ok && id.Value == "steps" {
			_, isConst := n.Property.(*ast.StringNode)
			return !isConst
		}
	case *ast.CallNode:
		for _, a := range n.Arguments {
			if id, ok := a.(*ast.IdentifierNode); ok && id.Value == "steps" {
				return true
			}
		}
	case *ast.BuiltinNode:
		for _, a := range n.Arguments {
			if id, ok := a.(*ast.IdentifierNode); ok && id.Value == "steps" {
				return true
			}
		}
	}
	return false
}

// tooDeep returns the rune offset where brackets and prefix operators in
// an expression first nest deeper than limit, or -1. String literals are
// skipped.
func tooDeep(src string, limit int) int {
	depth, unary, quote, escaped := 0, 0, rune(0), false
	i := 0
	for _, r := range src {
		switch {
		case escaped:
			escaped = false
		case quote != 0:
			if r == quote {
				quote = 0
			} else if r == '\\' && quote != '`' {
				escaped = true
			}
		case r == '"' || r == '\'' || r == '`':
			quote = r
		case r == '(' || r == '[' || r == '{':
			depth++
		case r == ')' || r == ']' || r == '}':
			depth--
		case r == '-' || r == '+' || r == '!':
			unary++
		case r != ' ' && r != '\t' && r != '\n':
			unary = 0
		}
		if depth+unary > limit {
			return i
		}
		i++
	}
	return -1
}

type visitor func(ast.Node)

func (v visitor) Visit(n *ast.Node) { v(*n) }

// checkNames checks steps.<id>.<field> and inputs.<name> accesses, records
// references, and reports unknown names at their own column.
func (c *diags) checkNames(e *Expr, node ast.Node, sc *scope) bool {
	switch n := node.(type) {
	case *ast.CallNode:
		return c.checkStatusCall(e, n, sc)
	case *ast.FloatNode:
		// expr-lang makes 1e-400 zero without a word, as YAML does.
		if loc := n.Location(); n.Value == 0 {
			if rs := []rune(e.Source); loc.From >= 0 && loc.From < loc.To && loc.To <= len(rs) && !zeroMantissa(string(rs[loc.From:loc.To])) {
				c.at(e, loc.From, "numbers are 64-bit: floats from about 4.9e-324 to 1.8e308",
					"the number %s is below the smallest 64-bit float: it would be 0", truncate(string(rs[loc.From:loc.To]), 40))
				return false
			}
		}
	case *ast.IdentifierNode:
		if n.Value == "$env" {
			// Through the whole environment, an expression could read a
			// step that nothing makes it wait for, or a block's outputs
			// kept as JSON.
			c.at(e, n.Location().From, "name what it reads — inputs.<name>, steps.<id>.<field>, env.<NAME> — so that the steps it reads run first",
				"an expression cannot read $env")
			return false
		}
		if sc.pathOf != "" && (n.Value == "steps" || n.Value == "env") {
			c.at(e, n.Location().From, "the file is named from what the run was given, before any step runs: pass the name as an input",
				"%s can read inputs and run only, not %s", sc.pathOf, n.Value)
			return false
		}
		if sc.itemVar != "" && sc.allowItems && (n.Value == sc.itemVar || n.Value == "index") {
			e.UsesItem = true
			e.UsesIndex = e.UsesIndex || n.Value == "index"
		}
		if sc.itemVar != "" && !sc.allowItems && (n.Value == sc.itemVar || n.Value == "index") {
			c.at(e, n.Location().From, "items cannot use the item variable: it is defined by them", "%q is not defined yet", n.Value)
			return false
		}
	case *ast.MemberNode:
		if !c.checkSummaryField(e, n) {
			return false
		}
		root, ok := n.Node.(*ast.IdentifierNode)
		if !ok {
			// steps.<id>.<field>: n.Node is steps.<id>.
			inner, isMember := n.Node.(*ast.MemberNode)
			if !isMember {
				return true
			}
			if r, ok := inner.Node.(*ast.IdentifierNode); ok && r.Value == "steps" {
				prop, ok := n.Property.(*ast.StringNode)
				if ok && !contains(stepFields, prop.Value) {
					c.at(e, prop.Location().From, didYouMean(suggest.Closest(prop.Value, stepFields)),
						"a step has no field %q; it has %s", prop.Value, strings.Join(stepFields, ", "))
					return false
				}
				if id, isID := inner.Property.(*ast.StringNode); ok && isID {
					e.Reads = append(e.Reads, FieldRef{ID: id.Value, Field: prop.Value, Offset: prop.Location().From})
				}
			}
			return true
		}
		prop, ok := n.Property.(*ast.StringNode)
		if !ok {
			return true
		}
		if sc.item != nil && sc.allowItems && root.Value == sc.itemVar && !sc.item.has(prop.Value) {
			c.at(e, prop.Location().From, matrixKeyDetail(prop.Value, sc.item), "the matrix item has no key %q", prop.Value)
			return false
		}
		switch root.Value {
		case "steps":
			if !sc.hasStep(prop.Value) {
				c.at(e, prop.Location().From, didYouMean(suggest.Closest(prop.Value, sc.steps)), "unknown step %q", prop.Value)
				return false
			}
			if !contains(e.Refs, prop.Value) {
				e.Refs = append(e.Refs, prop.Value)
			}
		case "env":
			return c.checkEnvName(e, prop, sc)
		case "inputs":
			if names := inputNames(sc.inputs); !contains(names, prop.Value) {
				detail := didYouMean(suggest.Closest(prop.Value, names))
				if detail == "" {
					detail = "declare it under inputs:"
				}
				c.at(e, prop.Location().From, detail, "unknown input %q", prop.Value)
				return false
			}
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// at reports a problem at a rune offset inside an expression.
func (c *diags) at(e *Expr, offset int, detail, format string, args ...any) {
	if e.node != nil {
		byteOff := len(e.Source)
		for i := range e.Source {
			if offset == 0 {
				byteOff = i
				break
			}
			offset--
		}
		line, col := valuePos(e.node, e.valueOff+byteOff, e.src)
		c.errorf(line, col, detail, format, args...)
		return
	}
	line, col := e.Pos.Line, e.Pos.Column
	for _, r := range e.Source {
		if offset == 0 {
			break
		}
		offset--
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	c.errorf(line, col, detail, format, args...)
}

// exprError reports an expr-lang error at the offending column.
func (c *diags) exprError(e *Expr, err error, sc *scope) {
	var fe *file.Error
	if !errors.As(err, &fe) {
		if got, ok := strings.CutPrefix(err.Error(), "expected bool, but got "); ok {
			c.at(e, len([]rune(e.Source))-len([]rune(strings.TrimLeft(e.Source, " "))), conditionDetail, "a condition must be true or false, not %s", exprTypeName(got))
			return
		}
		c.errorf(e.Pos.Line, e.Pos.Column, "", "invalid expression: %v", err)
		return
	}
	msg, detail, from := fe.Message, "", fe.From
	switch {
	case strings.Contains(msg, "exceeds maximum allowed nodes"):
		c.errorf(e.Pos.Line, e.Pos.Column, "split it, or compute the value in a step", "expression has more than %d parts", maxExprNodes)
		return
	case strings.HasPrefix(msg, "invalid integer literal"), strings.HasPrefix(msg, "invalid float literal"):
		// The position is the end of the literal; point at its start.
		from = literalStart(e.Source, from)
		if strings.HasSuffix(msg, "value out of range") {
			detail = "numbers are 64-bit: integers up to 9223372036854775807, floats up to about 1.8e308"
		}
		msg = strings.SplitN(msg, ":", 2)[0]
	}
	if got, ok := strings.CutPrefix(msg, "expected bool, but got "); ok {
		c.at(e, from, conditionDetail, "a condition must be true or false, not %s", exprTypeName(got))
		return
	}
	if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
		names := []string{"inputs", "env", "steps", "run"}
		if sc.itemVar != "" && sc.allowItems {
			names = append(names, sc.itemVar, "index")
		}
		candidates := names
		if sc.statusFuncs {
			candidates = append(append([]string{}, names...), statusFuncNames...)
		}
		detail = didYouMean(suggest.Closest(name, candidates))
		if d := itemOutOfScope(name, sc); d != "" {
			detail = d
		}
		if detail == "" {
			detail = "names in scope: " + strings.Join(names, ", ")
			if sc.statusFuncs {
				detail += "; status functions: " + strings.Join(allStatusFuncs.Names(), ", ")
			}
		}
		msg = fmt.Sprintf("unknown name %q", name)
	}
	if msg == `unexpected token Operator(":")` && strings.Contains(e.Source, "{") {
		// In map(xs, {key: .key}) the braces read as the closure's,
		// not as a map literal.
		detail = "braces after a comma open a predicate such as {# > 1}; to build a map in one, add parentheses: map(xs, ({key: .key}))"
	}
	c.at(e, from, detail, "%s", truncate(msg, 200))
}

// literalStart moves a rune offset at or just past the end of a number
// literal back to its first character.
func literalStart(src string, end int) int {
	rs := []rune(src)
	i := min(end, len(rs))
	for i > 0 && !isLiteralRune(rs[i-1]) {
		i-- // the offset may sit on the character after the literal
		if end-i > 1 {
			return end
		}
	}
	for i > 0 && (isLiteralRune(rs[i-1]) || rs[i-1] == '.' && i > 1 && rs[i-2] >= '0' && rs[i-2] <= '9' && i < len(rs) && rs[i] != '.') {
		i--
	}
	return i
}

func isLiteralRune(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_'
}
