package spec

import (
	"errors"
	"reflect"

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
	if c.Optimize {
		if err := optimizer.Optimize(&tree.Node, &c); err != nil {
			var fe *file.Error
			if errors.As(err, &fe) {
				return nil, fe.Bind(tree.Source)
			}
			return nil, err
		}
	}
	return compiler.Compile(tree, &c)
}
