package spec

import "fmt"

// parallelFields are the fields of steps.<id> that only a parallel block
// has; a single step has status and output alone, and a parallel block's
// output is always null.
var parallelFields = []string{"outputs", "results", "summary"}

// checkShapes reports expressions that read a field the step does not
// have: steps.<id>.summary of a single step (null when it runs), or
// steps.<id>.output of a parallel block (always null).
func (p *loader) checkShapes() {
	w := p.wf
	for _, s := range append(append([]*Step{}, w.Steps...), w.Finally...) {
		p.checkShape(exprsOf(s))
	}
	for _, o := range w.Outputs {
		p.checkShape(o.Value.Exprs())
	}
}

func (p *loader) checkShape(exprs []*Expr) {
	for _, x := range exprs {
		for _, r := range x.Reads {
			dep := p.wf.Step(r.ID)
			switch {
			case dep == nil:
			case dep.Parallel == nil && contains(parallelFields, r.Field):
				p.at(x, r.Offset, fmt.Sprintf("only a step with a parallel: block has %s; read steps.%s.output", r.Field, r.ID),
					"step %q is not a parallel block: it has no %s", r.ID, r.Field)
			case dep.Parallel != nil && r.Field == "output":
				p.at(x, r.Offset, fmt.Sprintf("read steps.%s.outputs (the items' outputs, in item order), .results or .summary", r.ID),
					"step %q is a parallel block: its output is per item", r.ID)
			}
		}
	}
}
