package spec

import (
	"reflect"

	"github.com/flowrun/flowrun/pkg/steps"
)

// reach is how the values of the expressions in a configuration field
// reach whatever reads the field.
type reach int

const (
	// reachValue: a field that is exactly one `${{ }}` gets the typed
	// value; inside longer text a value becomes text (Template.Eval).
	reachValue reach = iota
	// reachShell: a steps.Script field, which a shell parses. Each
	// expression becomes a reference to an environment variable,
	// ${FLOWRUN_EXPR_n}, holding its value (Template.Script).
	reachShell
	// reachExpression: a steps.Expression field, which an expression
	// engine runs. Each `${{ }}` becomes a variable of the compiled
	// expression, bound to its value (checkExpr).
	reachExpression
	// reachNone: a steps.Literal field, fixed when the workflow is
	// written. An expression there is a validation error.
	reachNone
)

var (
	scriptType     = reflect.TypeOf(steps.Script(""))
	expressionType = reflect.TypeOf(steps.Expression{})
	literalType    = reflect.TypeOf(steps.Literal(""))
)

// reachOf is the one place that decides how expressions reach a
// configuration field, from the field's Go type alone: a value that an
// interpreter parses is never pasted into its text. Every slot of a Value
// is resolved by the rule this returns for its own field, so an alias
// shared by a text field and a script field is text in one and a variable
// in the other.
func reachOf(t reflect.Type) reach {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case scriptType:
		return reachShell
	case expressionType:
		return reachExpression
	case literalType:
		return reachNone
	}
	return reachValue
}
