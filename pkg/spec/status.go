package spec

import (
	"fmt"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/types"
)

// StatusFuncs is the set of status functions an if: calls: always(),
// success(), failure() and cancelled(), with GitHub Actions' meaning. A
// step whose if: calls none has an implicit success(): it runs only when
// every dependency succeeded. A step whose if: calls one is evaluated
// whatever became of its dependencies, and the call decides; a step whose
// if: calls always() or cancelled() is not stopped by an interrupt, nor one
// that calls failure() by a failure elsewhere (pkg/exec: status.go).
type StatusFuncs uint8

// The status functions, one bit each.
const (
	CallsSuccess StatusFuncs = 1 << iota
	CallsFailure
	CallsCancelled
	CallsAlways
)

// statusFuncNames are the functions' names, in the order of their bits.
var statusFuncNames = []string{"success", "failure", "cancelled", "always"}

// Names returns the names of the functions in f, as called: "failure()".
func (f StatusFuncs) Names() []string {
	var out []string
	for i, n := range statusFuncNames {
		if f&(1<<i) != 0 {
			out = append(out, n+"()")
		}
	}
	return out
}

// StatusFuncs returns the status functions the step's if: calls; 0 when it
// calls none (or has no if:).
func (s *Step) StatusFuncs() StatusFuncs {
	if s.If == nil {
		return 0
	}
	return s.If.Status
}

// StatusState is what the status functions answer for one step:
// success() is Success, failure() Failure, cancelled() Cancelled;
// always() is always true.
type StatusState struct {
	Success, Failure, Cancelled bool
}

// StatusVars returns vars plus the status functions answering st, to
// evaluate an if: against; vars is not modified.
func StatusVars(vars map[string]any, st StatusState) map[string]any {
	out := make(map[string]any, len(vars)+len(statusFuncNames))
	for k, v := range vars {
		out[k] = v
	}
	out["success"] = func() bool { return st.Success }
	out["failure"] = func() bool { return st.Failure }
	out["cancelled"] = func() bool { return st.Cancelled }
	out["always"] = func() bool { return true }
	return out
}

// statusFuncType is the checker's type of a status function.
var statusFuncType = types.TypeOf(func() bool { return false })

// addStatusFuncs adds the status functions to a type environment.
func addStatusFuncs(env types.Map) {
	for _, n := range statusFuncNames {
		env[n] = statusFuncType
	}
}

// checkStatusCall records a call of a status function in e, or reports it
// where status functions are not in scope (anywhere but if:).
func (c *diags) checkStatusCall(e *Expr, n *ast.CallNode, sc *scope) bool {
	callee, ok := n.Callee.(*ast.IdentifierNode)
	if !ok {
		return true
	}
	bit := -1
	for i, name := range statusFuncNames {
		if callee.Value == name {
			bit = i
		}
	}
	if bit < 0 {
		return true
	}
	if !sc.statusFuncs {
		c.at(e, callee.Location().From,
			"status functions decide whether a step runs after a failure or a cancel: call them in a step's if:; elsewhere read steps.<id>.status",
			"%s() is a status function: only if: can call it", callee.Value)
		return false
	}
	if len(n.Arguments) > 0 {
		c.at(e, callee.Location().From,
			fmt.Sprintf("%s() looks at the step's dependencies, theirs and so on: name them in needs:", callee.Value),
			"%s() takes no arguments", callee.Value)
		return false
	}
	e.Status |= 1 << bit
	return true
}

// allStatusFuncs is every status function.
const allStatusFuncs = CallsSuccess | CallsFailure | CallsCancelled | CallsAlways
