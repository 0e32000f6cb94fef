package exec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/flowrun/flowrun/internal/jsonenc"
	"github.com/flowrun/flowrun/pkg/steps"
)

// OutputError is a workflow output that could not be evaluated.
type OutputError struct {
	Name  string `json:"name"`
	Error string `json:"error"`
}

// Output is one workflow output: its value, or, when it could not be
// evaluated, its error.
type Output struct {
	Name  string
	Value any
	Error string
}

// evalOutputs evaluates the workflow's outputs at the end of the run,
// whatever its status: each that can be evaluated is in Report.Outputs,
// each that cannot is in Report.OutputErrors with its error, every one of
// them. An output that cannot be evaluated fails a run that had
// succeeded; the run's error then names them all.
func (r *run) evalOutputs() {
	// Only the steps the outputs read: a step's value holds a map per
	// item, which a 100,000-item block should not build for nothing.
	all := make(map[string]any)
	for _, o := range r.wf.Outputs {
		for _, x := range o.Value.Exprs() {
			for _, id := range x.Refs {
				all[id] = r.steps[id].scopeValue()
			}
			if x.ReadsAllSteps {
				// steps whole, or by a computed id: every step.
				for id, sr := range r.steps {
					all[id] = sr.scopeValue()
				}
			}
		}
	}
	vars := r.scope(all).Vars()
	for _, o := range r.wf.Outputs {
		r.report.outputOrder = append(r.report.outputOrder, o.Name)
		err := r.checkKept(fmt.Sprintf("output %q", o.Name), o.Value.Exprs())
		var v any
		if err == nil {
			v, err = o.Value.Eval(vars)
		}
		if err == nil {
			// As deep as a report can hold and read back, like a step's.
			if _, _, jerr := jsonenc.Output(nil, v); errors.Is(jerr, jsonenc.ErrTooDeep) {
				err = jerr
			}
		}
		if err != nil {
			r.report.OutputErrors = append(r.report.OutputErrors, OutputError{Name: o.Name, Error: err.Error()})
			continue
		}
		r.report.Outputs[o.Name] = v
	}
	if errs := r.report.OutputErrors; len(errs) > 0 && r.report.Status == Succeeded {
		r.report.Status = Failed
		parts := make([]string, len(errs))
		for i, e := range errs {
			parts[i] = fmt.Sprintf("output %q: %s", e.Name, e.Error)
		}
		r.report.Error = strings.Join(parts, "; ")
		if len(errs) > 1 {
			r.report.Error = fmt.Sprintf("%d outputs could not be evaluated: %s", len(errs), r.report.Error)
		}
	}
}

// OrderedOutputs returns the workflow's outputs in the order the workflow
// declares them: those evaluated (Outputs is a map) with their value,
// those that could not be with their error (OutputErrors).
func (r *Report) OrderedOutputs() []Output {
	out := make([]Output, 0, len(r.Outputs)+len(r.OutputErrors))
	failed := make(map[string]string, len(r.OutputErrors))
	for _, e := range r.OutputErrors {
		failed[e.Name] = e.Error
	}
	seen := make(map[string]bool, len(r.outputOrder))
	for _, name := range r.outputOrder {
		if seen[name] {
			continue
		}
		seen[name] = true
		if v, ok := r.Outputs[name]; ok {
			out = append(out, Output{Name: name, Value: v})
		} else if e, ok := failed[name]; ok {
			out = append(out, Output{Name: name, Error: e})
		}
	}
	// Outputs set without an order (a report built by hand): sorted,
	// after the others.
	var rest []string
	for name := range r.Outputs {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	for _, name := range rest {
		out = append(out, Output{Name: name, Value: r.Outputs[name]})
	}
	return out
}

// MarshalJSON writes the report with its outputs in the order the
// workflow declares them, as they are printed, rather than sorted as a
// Go map would be; values JSON cannot hold (NaN, ±Inf) in its inputs and
// outputs are strings (steps.NonFinite), so that a report is always a
// valid document.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	p := plain(r)
	p.Inputs = finiteMap(r.Inputs)
	return json.Marshal(struct {
		plain
		Outputs orderedOutputs `json:"outputs"`
	}{p, orderedOutputs(r.OrderedOutputs())})
}

// orderedOutputs is a JSON object whose keys keep their order.
type orderedOutputs []Output

func (o orderedOutputs) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for _, out := range o {
		if out.Error != "" {
			continue // in output_errors
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		k, err := json.Marshal(out.Name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(steps.NonFinite(out.Value, "", nil))
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", out.Name, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
