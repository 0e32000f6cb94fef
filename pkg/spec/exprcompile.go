package spec

import (
	"errors"
	"fmt"
	"math"
	"reflect"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/checker/nature"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// baseConf is the compiler configuration every expression starts from. It
// is built once and never changed: building it (the table of builtin
// functions) cost more than checking a short expression.
var baseConf = conf.CreateNew()

// compileTree type-checks and compiles an expression that compile has
// parsed already, against env, as expr.Compile does with expr.Env,
// expr.MaxNodes and, when asBool is set, expr.AsBool.
func compileTree(tree *parser.Tree, env any, asBool bool) (*vm.Program, error) {
	c := *baseConf
	c.NtCache = nature.Cache{}
	c.MaxNodes = maxExprNodes
	c.WithEnv(env)
	if asBool {
		c.Expect, c.ExpectAny = reflect.Bool, true
	}
	if _, err := new(checker.Checker).PatchAndCheck(tree, &c); err != nil {
		return nil, err
	}
	if fe := nonFiniteConstant(tree.Node); fe != nil {
		return nil, fe.Bind(tree.Source) // before folding turns 1 / 0 into +Inf
	}
	if c.Optimize {
		if err := optimizer.Optimize(&tree.Node, &c); err != nil {
			var fe *file.Error
			if errors.As(err, &fe) {
				return nil, fe.Bind(tree.Source)
			}
			return nil, err
		}
		if fe := nonFiniteConstant(tree.Node); fe != nil {
			return nil, fe.Bind(tree.Source)
		}
	}
	return compiler.Compile(tree, &c)
}

// nonFiniteConstant finds, in an expression whose constant parts are
// folded, a division by a constant zero (x / 0, x % (2 - 2)) or a
// constant that folded to NaN or ±Inf (1 / 0, 1e308 * 10): a mistake on
// every run, reported when the file is validated rather than as +Inf in
// an output.
func nonFiniteConstant(root ast.Node) *file.Error {
	var found *file.Error
	ast.Walk(&root, visitor(func(n ast.Node) {
		if found != nil {
			return
		}
		switch n := n.(type) {
		case *ast.BinaryNode:
			if (n.Operator == "/" || n.Operator == "%") && isZero(n.Right) {
				found = &file.Error{Location: n.Location(), Message: "division by zero"}
			}
		case *ast.FloatNode:
			if math.IsNaN(n.Value) || math.IsInf(n.Value, 0) {
				found = &file.Error{Location: n.Location(), Message: fmt.Sprintf("the constant part is %v: a division by zero or an overflow", n.Value)}
			}
		}
	}))
	return found
}

func isZero(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.IntegerNode:
		return n.Value == 0
	case *ast.FloatNode:
		return n.Value == 0
	}
	return false
}
