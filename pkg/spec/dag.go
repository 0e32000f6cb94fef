package spec

import (
	"fmt"
	"strings"

	"github.com/flowrun/flowrun/internal/suggest"
)

// exprsOf returns every expression a step evaluates.
func exprsOf(s *Step) []*Expr {
	var out []*Expr
	if s.If != nil {
		out = append(out, s.If)
	}
	for _, e := range s.Env {
		out = append(out, e.Value.Exprs()...)
	}
	if s.Config != nil {
		out = append(out, s.Config.Exprs()...)
	}
	if s.With != nil {
		out = append(out, s.With.Exprs()...)
	}
	if b := s.Parallel; b != nil {
		if b.List != nil {
			out = append(out, b.List.Exprs()...)
		}
		for _, e := range []*Expr{b.Expr, b.WorkersExpr} {
			if e != nil {
				out = append(out, e)
			}
		}
		if b.Key != nil {
			out = append(out, b.Key.Exprs()...)
		}
		if b.Range != nil && b.Range.From != nil && b.Range.To != nil {
			out = append(out, b.Range.Exprs()...)
		}
		if b.ItemsFrom != nil && b.ItemsFrom.Expr != nil {
			out = append(out, b.ItemsFrom.Expr.Exprs()...)
		}
		if b.Matrix != nil {
			out = append(out, b.Matrix.Exprs()...)
		}
		for _, l := range b.Limits {
			out = append(out, l.Key.Exprs()...)
			if l.MaxExpr != nil {
				out = append(out, l.MaxExpr)
			}
		}
	}
	return out
}

// Exprs returns every expression the step evaluates, in file order.
func (s *Step) Exprs() []*Expr { return exprsOf(s) }

// dag adds inferred dependencies, checks every edge and orders the steps.
func (p *loader) dag() {
	w := p.wf
	for _, e := range w.Env {
		for _, x := range e.Value.Exprs() {
			switch {
			case len(x.Refs) > 0:
				p.errorf(x.Pos.Line, x.Pos.Column, "workflow env: is set before any step runs; use the step's own env:", "workflow env %s reads steps.%s", e.Name, x.Refs[0])
			case x.ReadsAllSteps:
				p.errorf(x.Pos.Line, x.Pos.Column, "workflow env: is set before any step runs; use the step's own env:", "workflow env %s reads steps", e.Name)
			}
		}
	}
	all := append(append([]*Step{}, w.Steps...), w.Finally...)
	ids := make([]string, 0, len(all))
	w.byID = make(map[string]*Step, len(all))
	for _, s := range all {
		ids = append(ids, s.ID)
		if s.ID != "" && w.byID[s.ID] == nil {
			w.byID[s.ID] = s
		}
	}
	for i, s := range all {
		for _, d := range s.Deps {
			if w.Step(d.ID) == nil {
				p.errorf(d.Pos.Line, d.Pos.Column, didYouMean(suggest.Closest(d.ID, ids)), "step %q needs unknown step %q", s.ID, d.ID)
			}
		}
		for _, x := range exprsOf(s) {
			for _, r := range x.Refs {
				switch d := s.dep(r); {
				case d == nil:
					s.Deps = append(s.Deps, Dep{ID: r, Pos: x.Pos})
				case d.Order:
					// Named as well as read whole: a dependency like any.
					*d = Dep{ID: r, Pos: x.Pos}
				}
			}
			if x.ReadsAllSteps {
				// steps whole, or by a computed id: every step above it
				// (for a finally step, every main step and the finally
				// steps above it), so that what it reads has run rather
				// than being absent from what it sees.
				for _, above := range all[:i] {
					if above.ID != "" && !s.dependsOn(above.ID) {
						s.Deps = append(s.Deps, Dep{ID: above.ID, Order: true, Pos: x.Pos})
					}
				}
			}
		}
		valid := s.Deps[:0]
		for _, d := range s.Deps {
			dep := w.Step(d.ID)
			switch {
			case dep == nil:
				continue // reported above, or by the expression check
			case d.ID == s.ID:
				p.errorf(d.Pos.Line, d.Pos.Column, "a step cannot read its own results", "step %q depends on itself", s.ID)
				continue
			case dep.Finally && !s.Finally:
				p.errorf(d.Pos.Line, d.Pos.Column, "finally steps run after every other step", "step %q depends on finally step %q, which is not upstream", s.ID, d.ID)
				continue
			}
			valid = append(valid, d)
		}
		s.Deps = valid
	}
	w.Order = p.order(w.Steps)
	p.order(w.Finally)
}

func (s *Step) dependsOn(id string) bool { return s.dep(id) != nil }

// dep returns the step's dependency on id, nil if none.
func (s *Step) dep(id string) *Dep {
	for i := range s.Deps {
		if s.Deps[i].ID == id {
			return &s.Deps[i]
		}
	}
	return nil
}

// order sorts steps topologically, file order breaking ties, and reports
// cycles with their path. Dependencies outside the list (a finally step's
// main-step dependencies) are already satisfied.
func (p *loader) order(list []*Step) []*Step {
	index := make(map[string]int, len(list))
	for i, s := range list {
		index[s.ID] = i
	}
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(list))
	var out []*Step
	var stack []int
	reported := false
	var visit func(i int)
	visit = func(i int) {
		color[i] = grey
		stack = append(stack, i)
		for _, d := range list[i].Deps {
			j, ok := index[d.ID]
			if !ok {
				continue
			}
			switch color[j] {
			case white:
				visit(j)
			case grey:
				if !reported {
					reported = true
					p.cycle(list, stack, j, d)
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[i] = black
		out = append(out, list[i])
	}
	for i := range list {
		if color[i] == white {
			visit(i)
		}
	}
	return out
}

func (p *loader) cycle(list []*Step, stack []int, start int, closing Dep) {
	var path []string
	for k := len(stack) - 1; k >= 0; k-- {
		path = append(path, list[stack[k]].ID)
		if stack[k] == start {
			break
		}
	}
	// path runs from the last step visited back to start; each step in
	// stack order depends on the next, so reversed it reads as "needs".
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	path = append(path, list[start].ID)
	fix := "a step can only depend on steps that do not depend on it"
	byID := make(map[string]*Step, len(list))
	for _, s := range list {
		byID[s.ID] = s
	}
	for k := 0; k+1 < len(path); k++ {
		for _, d := range byID[path[k]].Deps {
			if d.ID == path[k+1] && d.Order {
				fix = fmt.Sprintf("step %q reads steps whole (at %d:%d), so it waits for every step above it: name the steps it reads (steps.<id>) instead, or move it above %q", path[k], d.Pos.Line, d.Pos.Column, d.ID)
			}
		}
	}
	p.errorf(closing.Pos.Line, closing.Pos.Column, fix, "dependency cycle: %s", strings.Join(path, " -> "))
}

// Levels groups the main steps into levels: a step's level is one more
// than its deepest dependency's, so the steps of one level can run at once.
func (w *Workflow) Levels() [][]*Step {
	level := make(map[string]int)
	var out [][]*Step
	for _, s := range w.Order {
		l := 0
		for _, d := range s.Deps {
			if dl, ok := level[d.ID]; ok && dl+1 > l {
				l = dl + 1
			}
		}
		level[s.ID] = l
		for len(out) <= l {
			out = append(out, nil)
		}
		out[l] = append(out[l], s)
	}
	return out
}

// String renders a dependency for plans: "list (inferred)".
func (d Dep) String() string {
	if d.Explicit {
		return d.ID
	}
	return fmt.Sprintf("%s (inferred)", d.ID)
}
