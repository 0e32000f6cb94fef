package spec

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Plan is a workflow's DAG in run order, as `flowrun plan` prints it:
// what would run, level by level, without running anything.
type Plan struct {
	Name string `json:"name"`
	File string `json:"file"`
	// Levels hold the main steps: a step's level is one more than its
	// deepest dependency's, so the steps of one level can run at once.
	Levels  [][]PlanStep `json:"levels"`
	Finally []PlanStep   `json:"finally,omitempty"`
}

// PlanStep is one step of a Plan.
type PlanStep struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Type is the step type, or "uses" for a call of another workflow.
	Type string `json:"type"`
	Uses string `json:"uses,omitempty"`
	// Needs are the step's dependencies, explicit and inferred.
	Needs []PlanDep `json:"needs,omitempty"`
	// If is the step's condition as written, or "".
	If       string        `json:"if,omitempty"`
	Parallel *PlanParallel `json:"parallel,omitempty"`
}

// PlanDep is one dependency: Explicit for needs:, else inferred from an
// expression that reads steps.<id>.
type PlanDep struct {
	ID       string `json:"id"`
	Explicit bool   `json:"explicit"`
}

// PlanParallel describes a parallel block without running it.
type PlanParallel struct {
	// Items is the fan-out when it is known without running (a literal
	// list or a constant range), else -1; ItemsFrom says where the items
	// come from then.
	Items     int    `json:"items"`
	ItemsFrom string `json:"items_from,omitempty"`
	// Workers is the worker count: a number, an expression, or "default"
	// (apply --workers, else the number of CPUs).
	Workers string `json:"workers"`
	OnError string `json:"on_error"`
}

// Plan returns the workflow's plan. It is meaningful only for a workflow
// loaded without errors.
func (w *Workflow) Plan() *Plan {
	p := &Plan{Name: w.Name, File: w.File}
	for _, level := range w.Levels() {
		var out []PlanStep
		for _, s := range level {
			out = append(out, planStep(s))
		}
		p.Levels = append(p.Levels, out)
	}
	for _, s := range w.Finally {
		p.Finally = append(p.Finally, planStep(s))
	}
	return p
}

func planStep(s *Step) PlanStep {
	ps := PlanStep{ID: s.ID, Name: s.Name, Type: s.Type, Uses: s.Uses}
	for _, d := range s.Deps {
		ps.Needs = append(ps.Needs, PlanDep{ID: d.ID, Explicit: d.Explicit})
	}
	if s.If != nil {
		ps.If = strings.TrimSpace(s.If.Source)
	}
	if b := s.Parallel; b != nil {
		pp := &PlanParallel{Items: b.StaticCount, Workers: "default", OnError: b.OnError}
		switch {
		case b.WorkersExpr != nil:
			pp.Workers = "${{ " + strings.TrimSpace(b.WorkersExpr.Source) + " }}"
		case b.Workers > 0:
			pp.Workers = strconv.Itoa(b.Workers)
		}
		if pp.Items < 0 {
			pp.ItemsFrom = itemsSource(b)
		}
		ps.Parallel = pp
	}
	return ps
}

// itemsSource names where a block's items come from when their number is
// known only when it runs.
func itemsSource(b *Parallel) string {
	switch {
	case b.Expr != nil:
		return "${{ " + strings.TrimSpace(b.Expr.Source) + " }}"
	case b.Range != nil && b.Range.From != nil && b.Range.To != nil:
		sep := ".."
		if !b.Range.Inclusive {
			sep = " until "
		}
		return "${{ " + strings.TrimSpace(b.Range.From.Source) + sep + strings.TrimSpace(b.Range.To.Source) + " }}"
	case b.ItemsFrom != nil:
		return "items_from"
	}
	return "unknown"
}

// Steps counts the plan's steps, finally steps included.
func (p *Plan) Steps() int {
	n := len(p.Finally)
	for _, l := range p.Levels {
		n += len(l)
	}
	return n
}

// Format writes the plan for people: one block per level, each step with
// its type, dependencies, condition and fan-out.
func (p *Plan) Format(w io.Writer) {
	name := p.Name
	if name == "" {
		name = p.File
	}
	fmt.Fprintf(w, "plan for %s: %d steps in %d levels", name, p.Steps(), len(p.Levels))
	if len(p.Finally) > 0 {
		fmt.Fprintf(w, ", then %d finally", len(p.Finally))
	}
	fmt.Fprintln(w)
	for i, level := range p.Levels {
		fmt.Fprintf(w, "\nlevel %d", i+1)
		if len(level) > 1 {
			fmt.Fprintf(w, " (%d steps at once)", len(level))
		}
		fmt.Fprintln(w)
		for _, s := range level {
			s.format(w)
		}
	}
	if len(p.Finally) > 0 {
		fmt.Fprintln(w, "\nfinally (always, after everything else)")
		for _, s := range p.Finally {
			s.format(w)
		}
	}
}

func (s PlanStep) format(w io.Writer) {
	kind := s.Type
	if s.Uses != "" {
		kind = "uses " + s.Uses
	}
	fmt.Fprintf(w, "  %s  %s", s.ID, kind)
	if s.Name != "" {
		fmt.Fprintf(w, "  %q", s.Name)
	}
	fmt.Fprintln(w)
	if len(s.Needs) > 0 {
		deps := make([]string, len(s.Needs))
		for i, d := range s.Needs {
			deps[i] = Dep{ID: d.ID, Explicit: d.Explicit}.String()
		}
		fmt.Fprintf(w, "      needs     %s\n", strings.Join(deps, ", "))
	}
	if s.If != "" {
		fmt.Fprintf(w, "      if        %s\n", s.If)
	}
	if b := s.Parallel; b != nil {
		items := strconv.Itoa(b.Items) + " items"
		if b.Items < 0 {
			items = "known when it runs: " + b.ItemsFrom
		}
		fmt.Fprintf(w, "      parallel  %s, workers %s, on_error %s\n", items, b.Workers, b.OnError)
	}
}
