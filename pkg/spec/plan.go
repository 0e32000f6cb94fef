package spec

import (
	"encoding/json"
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
	// Inputs are the workflow's inputs in the order they are declared.
	Inputs []PlanInput `json:"inputs"`
	// Levels hold the main steps: a step's level is one more than its
	// deepest dependency's, so the steps of one level can run at once.
	Levels  [][]PlanStep `json:"levels"`
	Finally []PlanStep   `json:"finally,omitempty"`
}

// PlanInput is one input of a Plan: what --set can give.
type PlanInput struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Required bool   `json:"required"`
	// Default is absent when the input has none (a null default is
	// present, as null).
	Default     any    `json:"default,omitempty"`
	HasDefault  bool   `json:"has_default"`
	Description string `json:"description,omitempty"`
	// Secret inputs are masked in what flowrun writes; their default is
	// not shown.
	Secret bool `json:"secret,omitempty"`
	// Env is the environment variable read when --set gives no value.
	Env string `json:"env,omitempty"`
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
	If string `json:"if,omitempty"`
	// StatusFunctions are the status functions If calls ("failure()"):
	// the step is then evaluated whatever became of its dependencies.
	StatusFunctions []string `json:"status_functions,omitempty"`
	// Runs says, for a step whose if: calls status functions, when it is
	// evaluated.
	Runs     string        `json:"runs,omitempty"`
	Parallel *PlanParallel `json:"parallel,omitempty"`
}

// PlanDep is one dependency: Explicit for needs:, else inferred from an
// expression that reads steps.<id>.
type PlanDep struct {
	ID       string `json:"id"`
	Explicit bool   `json:"explicit"`
}

// PlanParallel describes a parallel block without running it. Each
// figure is either known before the run (a number) or given as the
// expression that decides it when the block runs, never both.
type PlanParallel struct {
	// Items is the fan-out when it is known without running (a literal
	// list, a constant range, a matrix without expressions); otherwise
	// ItemsExpr, ItemsFrom or Matrix says where the items come from.
	Items     *int           `json:"items,omitempty"`
	ItemsExpr string         `json:"items_expr,omitempty"`
	ItemsFrom *PlanItemsFrom `json:"items_from,omitempty"`
	Matrix    *PlanMatrix    `json:"matrix,omitempty"`
	// Workers is the block's literal worker count, WorkersExpr the
	// expression that gives it; with neither, the run's default applies
	// (apply --workers, else the number of CPUs).
	Workers     *int   `json:"workers,omitempty"`
	WorkersExpr string `json:"workers_expr,omitempty"`
	OnError     string `json:"on_error"`
	// Limits are the block's limit:s.
	Limits []PlanLimit `json:"limits,omitempty"`
	// Local is true for a block with `remote: false`: its items stay in
	// the process that runs the workflow, even with a cluster.
	Local bool `json:"local,omitempty"`
	// Rate is the block's rate: as written ("200/s"), Burst its burst
	// when above 1; Duration how long the block starts items, as a Go
	// duration ("1m0s"). Each is absent when the block sets none.
	Rate     string `json:"rate,omitempty"`
	Burst    int    `json:"burst,omitempty"`
	Duration string `json:"duration,omitempty"`
}

// PlanMatrix is a matrix block's shape: its axes, then how many include
// and exclude entries it has (or the expressions that give them).
type PlanMatrix struct {
	Axes []PlanAxis `json:"axes"`
	// Product is the number of combinations before exclude and include,
	// when every axis is a list.
	Product     *int   `json:"product,omitempty"`
	Include     int    `json:"include"`
	IncludeExpr string `json:"include_expr,omitempty"`
	Exclude     int    `json:"exclude"`
	ExcludeExpr string `json:"exclude_expr,omitempty"`
}

// PlanAxis is one axis of a matrix: its number of values, or the
// expression that gives them.
type PlanAxis struct {
	Name   string `json:"name"`
	Values *int   `json:"values,omitempty"`
	Expr   string `json:"expr,omitempty"`
}

// PlanLimit is one limit: of a block: its key expression and max, or the
// expression that gives the max.
type PlanLimit struct {
	Key     string `json:"key"`
	Max     *int   `json:"max,omitempty"`
	MaxExpr string `json:"max_expr,omitempty"`
}

// PlanItemsFrom is a block's items file as written (an expression's
// ${{ }} included), and its format: "" when the extension of a file named
// by an expression decides it when the block starts.
type PlanItemsFrom struct {
	File   string `json:"file"`
	Format string `json:"format,omitempty"`
}

// Plan returns the workflow's plan. It is meaningful only for a workflow
// loaded without errors.
func (w *Workflow) Plan() *Plan {
	p := &Plan{Name: w.Name, File: w.File, Inputs: []PlanInput{}}
	for _, in := range w.Inputs {
		pi := PlanInput{Name: in.Name, Type: in.Type, Required: in.Required, HasDefault: in.HasDefault, Description: in.Description, Secret: in.Secret, Env: in.Env}
		if in.HasDefault && !in.Secret {
			pi.Default = in.Default
		}
		p.Inputs = append(p.Inputs, pi)
	}
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
		ps.StatusFunctions = s.If.Status.Names()
		if len(ps.StatusFunctions) > 0 {
			ps.Runs = statusNote(ps.StatusFunctions, s.Finally)
		}
	}
	if b := s.Parallel; b != nil {
		pp := &PlanParallel{OnError: b.OnError, Local: b.Local}
		switch {
		case b.StaticCount >= 0:
			pp.Items = &b.StaticCount
		case b.ItemsFrom != nil:
			pp.ItemsFrom = &PlanItemsFrom{File: b.ItemsFrom.File, Format: b.ItemsFrom.Format}
		case b.Matrix == nil:
			pp.ItemsExpr = itemsExpr(b)
		}
		if b.Matrix != nil {
			pp.Matrix = planMatrix(b.Matrix)
		}
		for _, l := range b.Limits {
			pl := PlanLimit{Key: l.Source()}
			if l.MaxExpr != nil {
				pl.MaxExpr = exprText(l.MaxExpr)
			} else {
				pl.Max = &l.Max
			}
			pp.Limits = append(pp.Limits, pl)
		}
		switch {
		case b.WorkersExpr != nil:
			pp.WorkersExpr = "${{ " + strings.TrimSpace(b.WorkersExpr.Source) + " }}"
		case b.Workers > 0:
			pp.Workers = &b.Workers
		}
		if b.Rate != nil {
			pp.Rate = b.Rate.Text
			if b.Rate.Burst > 1 {
				pp.Burst = b.Rate.Burst
			}
		}
		if b.Duration > 0 {
			pp.Duration = b.Duration.String()
		}
		ps.Parallel = pp
	}
	return ps
}

func exprText(e *Expr) string { return "${{ " + strings.TrimSpace(e.Source) + " }}" }

func planMatrix(m *Matrix) *PlanMatrix {
	pm := &PlanMatrix{Axes: []PlanAxis{}}
	for _, a := range m.Axes {
		pa := PlanAxis{Name: a.Name}
		if a.List != nil {
			n := len(a.List.Node.Content)
			pa.Values = &n
		} else {
			pa.Expr = exprText(a.Expr)
		}
		pm.Axes = append(pm.Axes, pa)
	}
	if m.ProductLen >= 0 {
		n := m.ProductLen
		pm.Product = &n
	}
	count := func(c *Combos) (int, string) {
		switch {
		case c == nil:
			return 0, ""
		case c.Expr != nil:
			return 0, exprText(c.Expr)
		}
		return len(deref(c.List.Node).Content), ""
	}
	pm.Include, pm.IncludeExpr = count(m.Include)
	pm.Exclude, pm.ExcludeExpr = count(m.Exclude)
	return pm
}

// itemsExpr is the expression that gives a block's items when their
// number is known only when it runs.
func itemsExpr(b *Parallel) string {
	switch {
	case b.Expr != nil:
		return "${{ " + strings.TrimSpace(b.Expr.Source) + " }}"
	case b.Range != nil && b.Range.From != nil && b.Range.To != nil:
		if !b.Range.Inclusive {
			args := []string{b.Range.From.Source, b.Range.To.Source}
			if b.Range.Step != nil {
				args = append(args, b.Range.Step.Source)
			}
			for i := range args {
				args[i] = strings.TrimSpace(args[i])
			}
			return "${{ range(" + strings.Join(args, ", ") + ") }}"
		}
		return "${{ " + strings.TrimSpace(b.Range.From.Source) + ".." + strings.TrimSpace(b.Range.To.Source) + " }}"
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
	fmt.Fprintf(w, "plan for %s: %s in %s", name, count(p.Steps(), "step"), count(len(p.Levels), "level"))
	if len(p.Finally) > 0 {
		fmt.Fprintf(w, ", then %d finally", len(p.Finally))
	}
	fmt.Fprintln(w)
	if len(p.Inputs) > 0 {
		fmt.Fprintln(w, "\ninputs (set with --set name=value)")
		for _, in := range p.Inputs {
			in.format(w)
		}
	}
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

func (in PlanInput) format(w io.Writer) {
	fmt.Fprintf(w, "  %s  %s", in.Name, in.Type)
	if in.Secret {
		fmt.Fprint(w, ", secret")
	}
	if in.Env != "" {
		fmt.Fprintf(w, ", from $%s", in.Env)
	}
	switch {
	case in.Required:
		fmt.Fprint(w, ", required")
	case in.HasDefault && in.Secret:
		fmt.Fprint(w, ", default ***")
	case in.HasDefault:
		b, err := json.Marshal(in.Default)
		if err != nil {
			b = []byte(fmt.Sprint(in.Default))
		}
		fmt.Fprintf(w, ", default %s", b)
	default:
		fmt.Fprint(w, ", optional")
	}
	fmt.Fprintln(w)
	if in.Description != "" {
		fmt.Fprintf(w, "      %s\n", in.Description)
	}
}

// count writes n and the noun, plural unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
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
	if s.Runs != "" {
		fmt.Fprintf(w, "      runs      %s\n", s.Runs)
	}
	if b := s.Parallel; b != nil {
		var items string
		switch {
		case b.Items != nil:
			items = count(*b.Items, "item")
		case b.ItemsFrom != nil:
			format := b.ItemsFrom.Format
			if format == "" {
				format = "format by its extension"
			}
			items = fmt.Sprintf("known when it runs: items_from %s (%s)", b.ItemsFrom.File, format)
		case b.Matrix != nil:
			items = "known when it runs: matrix"
		default:
			items = "known when it runs: " + b.ItemsExpr
		}
		workers := "default"
		switch {
		case b.Workers != nil:
			workers = strconv.Itoa(*b.Workers)
		case b.WorkersExpr != "":
			workers = b.WorkersExpr
		}
		local := ""
		if b.Local {
			local = ", remote: false (runs in-process)"
		}
		fmt.Fprintf(w, "      parallel  %s, workers %s, on_error %s%s\n", items, workers, b.OnError, local)
		if b.Matrix != nil {
			fmt.Fprintf(w, "      matrix    %s\n", b.Matrix.text())
		}
		for _, l := range b.Limits {
			most := l.MaxExpr
			if l.Max != nil {
				most = strconv.Itoa(*l.Max)
			}
			fmt.Fprintf(w, "      limit     %s at once per %s\n", most, l.Key)
		}
		var pace []string
		if b.Rate != "" {
			r := "rate " + b.Rate
			if b.Burst > 1 {
				r += fmt.Sprintf(" (burst %d)", b.Burst)
			}
			pace = append(pace, r)
		}
		if b.Duration != "" {
			pace = append(pace, "for "+b.Duration+", then no new item starts")
		}
		if len(pace) > 0 {
			fmt.Fprintf(w, "      load      %s\n", strings.Join(pace, ", "))
		}
	}
}

// statusNote says when a step whose if: calls status functions is
// evaluated.
func statusNote(funcs []string, finally bool) string {
	list := " (" + strings.Join(funcs, ", ") + ")"
	switch {
	case finally:
		return "if the main steps' outcome matches" + list
	case contains(funcs, "always()"), contains(funcs, "cancelled()"):
		return "whatever its dependencies did, even after a failure or an interrupt" + list
	case contains(funcs, "failure()"):
		return "whatever its dependencies did, even after a failure" + list
	}
	return "when every dependency succeeded" + list
}

// text describes a matrix on one line: "region (2) × service (3) = 6,
// include 1, exclude 2".
func (m *PlanMatrix) text() string {
	axes := make([]string, len(m.Axes))
	for i, a := range m.Axes {
		if a.Values != nil {
			axes[i] = fmt.Sprintf("%s (%d)", a.Name, *a.Values)
		} else {
			axes[i] = fmt.Sprintf("%s (%s)", a.Name, a.Expr)
		}
	}
	s := strings.Join(axes, " × ")
	if m.Product != nil && len(m.Axes) > 1 {
		s += fmt.Sprintf(" = %d", *m.Product)
	}
	for _, c := range []struct {
		what string
		n    int
		expr string
	}{{"include", m.Include, m.IncludeExpr}, {"exclude", m.Exclude, m.ExcludeExpr}} {
		switch {
		case c.expr != "":
			s += fmt.Sprintf(", %s %s", c.what, c.expr)
		case c.n > 0:
			s += fmt.Sprintf(", %s %d", c.what, c.n)
		}
	}
	return strings.TrimPrefix(s, ", ")
}
