package steps

import (
	"errors"
	"maps"
)

// Expression is a configuration field holding an expr-lang expression that
// the step evaluates when it runs, over values only it knows (the http
// step's expect.json reads the response's body, status and headers).
//
// flowrun compiles the expression once, when the workflow is loaded, with
// the same limits as every other expression, and hands the step a compiled
// Expression: a step never parses expression text. The value of a `${{ }}`
// written inside the field reaches the expression as a variable, never as
// code, so data cannot change what the check does:
//
//	json: body.name == ${{ item }}    # item "x || true" is compared, not run
//
// Inside a string literal of the expression ("id-${{ item }}") the value is
// its text. A step type declares the variables it passes to Eval with
// ExpressionEnver. The zero Expression is empty: IsZero reports it, and a
// step treats it as "no expression".
type Expression struct {
	// Source is the field as written in the workflow, `${{ }}` included.
	Source string

	eval  Evaluator
	bound map[string]any
}

// Evaluator is a compiled expression. flowrun's loader provides it; Eval is
// safe for concurrent use and does not keep vars.
type Evaluator interface {
	Eval(vars map[string]any) (any, error)
}

// NewExpression returns the Expression for source, evaluated by ev with
// bound, the values of its `${{ }}`, added to the variables of each Eval.
// flowrun's loader calls it; a step and its tests may call it too (with an
// evaluator of their own) to build a configuration in Go.
func NewExpression(source string, ev Evaluator, bound map[string]any) Expression {
	return Expression{Source: source, eval: ev, bound: bound}
}

// UnmarshalText keeps the text as Source; the loader compiles it and
// replaces the value with a compiled one before the step sees it.
func (e *Expression) UnmarshalText(b []byte) error {
	*e = Expression{Source: string(b)}
	return nil
}

// MarshalText returns Source.
func (e Expression) MarshalText() ([]byte, error) { return []byte(e.Source), nil }

// IsZero reports whether the field was left empty.
func (e Expression) IsZero() bool { return e.Source == "" }

// errNotCompiled is returned by Eval on an Expression that did not come
// from the loader: evaluating its text here would be a second expression
// engine, with its own rules and limits.
var errNotCompiled = errors.New("expression was not compiled by flowrun's loader")

// Eval evaluates the expression with vars, the step's variables (vars is
// not modified). The values bound from `${{ }}` are added to them.
func (e Expression) Eval(vars map[string]any) (any, error) {
	if e.eval == nil {
		return nil, errNotCompiled
	}
	if len(e.bound) > 0 {
		all := make(map[string]any, len(vars)+len(e.bound))
		maps.Copy(all, vars)
		maps.Copy(all, e.bound)
		vars = all
	}
	return e.eval.Eval(vars)
}

// ExpressionEnv declares how an Expression field is evaluated.
type ExpressionEnv struct {
	// Vars are the variables the step passes to Eval, each with a value of
	// its Go type (0 for an int); nil means any type.
	Vars map[string]any
	// Bool requires the expression to yield a boolean, checked when the
	// workflow is validated as far as the types allow.
	Bool bool
}

// ExpressionEnver is implemented by step types with Expression fields.
// ExpressionEnv returns the environment of the field at path, as a
// workflow writes it ("expect.json"), so that an unknown variable or a
// wrong result type is an error when the workflow is validated. Without
// it, an Expression field has no variables but its `${{ }}` values.
type ExpressionEnver interface {
	ExpressionEnv(path string) ExpressionEnv
}
