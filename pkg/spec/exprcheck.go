package spec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/types"

	"github.com/flowrun/flowrun/internal/suggest"
)

// summaryFields are the fields of steps.<id>.summary, sorted.
var summaryFields = func() []string {
	var out []string
	for k := range stepValueType["summary"].(types.Map) {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}()

// checkSummaryField reports steps.<id>.summary.<field> with a field the
// summary does not have, with a suggestion, at the field's column.
func (c *diags) checkSummaryField(e *Expr, n *ast.MemberNode) bool {
	field, ok := n.Property.(*ast.StringNode)
	if !ok {
		return true
	}
	summary, ok := n.Node.(*ast.MemberNode)
	if !ok {
		return true
	}
	if p, ok := summary.Property.(*ast.StringNode); !ok || p.Value != "summary" {
		return true
	}
	step, ok := summary.Node.(*ast.MemberNode)
	if !ok {
		return true
	}
	if root, ok := step.Node.(*ast.IdentifierNode); !ok || root.Value != "steps" {
		return true
	}
	if slices.Contains(summaryFields, field.Value) {
		return true
	}
	detail := didYouMean(suggest.Closest(field.Value, summaryFields))
	if detail == "" {
		detail = "its fields: " + strings.Join(summaryFields, ", ")
	}
	c.at(e, field.Location().From, detail, "a step summary has no field %q", field.Value)
	return false
}

// itemOutOfScope explains an unknown name that is an item variable used
// where no item exists, or "".
func itemOutOfScope(name string, sc *scope) string {
	switch {
	case sc.blockItem != "" && (name == sc.blockItem || name == "index"):
		return fmt.Sprintf("if: is evaluated once for the whole step, before any item; %q exists only inside the step's parallel block", name)
	case sc.itemVar == "" && (name == "item" || name == "index"):
		return fmt.Sprintf("%q exists only in a step with a parallel: block", name)
	}
	return ""
}

// exprTypeName names an expression type as the workflow format does.
func exprTypeName(t string) string {
	switch {
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "an integer"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case strings.HasPrefix(t, "map"):
		return "an object"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case t == "string":
		return "a string"
	}
	return t
}

const conditionDetail = "compare the value, e.g. `inputs.name != \"\"` or `steps.a.summary.failed == 0`"
