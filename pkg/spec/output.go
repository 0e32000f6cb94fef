package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr/types"

	"github.com/flowrun/flowrun/internal/suggest"
	"github.com/flowrun/flowrun/pkg/steps"
)

// checkOutputTypes checks again, once every step is loaded, the
// expressions that read the output of a step whose output type is known
// before it runs: steps.total.output.sun, where total is a set step with
// no key sun, is then an error at the name's column rather than a null at
// run time. Expressions compile against an output of any type at first,
// because the step they read may come later in the file.
func (p *loader) checkOutputTypes() {
	w := p.wf
	all := append(append([]*Step{}, w.Steps...), w.Finally...)
	outputs := make(map[string]types.Type)
	for _, s := range all {
		if t := outputType(s); t != nil {
			outputs[s.ID] = t
		}
	}
	if len(outputs) == 0 {
		return
	}
	var exprs []*Expr
	for _, s := range all {
		exprs = append(exprs, exprsOf(s)...)
	}
	for _, o := range w.Outputs {
		exprs = append(exprs, o.Value.Exprs()...)
	}
	for _, x := range exprs {
		if x.program == nil || x.sc == nil || !readsTyped(x, outputs) {
			continue
		}
		sc := *x.sc
		sc.outputs = outputs
		again := &Expr{Source: x.Source, Pos: x.Pos, node: x.node, valueOff: x.valueOff, src: x.src}
		before := len(p.list)
		p.compileExpr(again, &sc, x.asBool)
		for _, d := range p.list[before:] {
			if name, ok := strings.CutPrefix(d.Summary, "unknown field "); ok && d.Detail == "" {
				d.Summary = fmt.Sprintf("unknown field %q", name)
				d.Detail = fieldHint(name, x, outputs)
			}
		}
	}
}

// fieldHint suggests the output key closest to a misspelt one, among the
// keys of the outputs the expression reads.
func fieldHint(name string, x *Expr, outputs map[string]types.Type) string {
	var keys []string
	for _, r := range x.Reads {
		if m, ok := outputs[r.ID].(types.Map); ok {
			for k := range m {
				if k != types.Extra && !contains(keys, k) {
					keys = append(keys, k)
				}
			}
		}
	}
	slices.Sort(keys)
	if s := suggest.Closest(name, keys); s != "" {
		return didYouMean(s)
	}
	if len(keys) > 0 {
		return "the output has " + strings.Join(keys, ", ")
	}
	return ""
}

func readsTyped(x *Expr, outputs map[string]types.Type) bool {
	for _, r := range x.Reads {
		if _, ok := outputs[r.ID]; ok && (r.Field == "output" || r.Field == "outputs" || r.Field == "results") {
			return true
		}
	}
	return false
}

// outputType is the type of a step's output where it is known before the
// step runs, or nil.
func outputType(s *Step) types.Type {
	switch {
	case s.Output == "json":
		return nil
	case s.Output == "lines":
		return types.Array(types.String)
	case s.Type == "uses":
		if s.Callee == nil {
			return nil
		}
		m := types.Map{}
		for _, o := range s.Callee.Outputs {
			m[o.Name] = types.Any
		}
		return m
	case s.Config == nil || s.Info.New == nil:
		return nil
	}
	if _, ok := s.Info.New().(steps.OutputShaper); !ok {
		return nil
	}
	st, err := decodeStep(s.Info, s.Config.zeroed())
	if err != nil {
		return nil
	}
	return shapeType(st.(steps.OutputShaper).OutputShape(), 0)
}

// shapeType turns a step type's sample output into the type expressions
// are checked against. A map with keys allows those keys only; an empty
// map, nil or anything deeper than a few levels allows anything.
func shapeType(v any, depth int) types.Type {
	if depth > 8 {
		return types.Any
	}
	switch x := v.(type) {
	case nil:
		return types.Any
	case string:
		return types.String
	case bool:
		return types.Bool
	case int:
		return types.Int
	case float64:
		return types.Float64
	case []any:
		if len(x) == 0 {
			return types.Array(types.Any)
		}
		return types.Array(shapeType(x[0], depth+1))
	case map[string]any:
		if len(x) == 0 {
			return types.Map{types.Extra: types.Any}
		}
		m := types.Map{}
		for k, e := range x {
			m[k] = shapeType(e, depth+1)
		}
		return m
	}
	// Structs, typed slices and maps: as the JSON the output becomes.
	b, err := json.Marshal(v)
	if err != nil {
		return types.Any
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // whole numbers stay integers, as at run time
	var plain any
	if dec.Decode(&plain) != nil {
		return types.Any
	}
	return shapeType(Normalize(plain), depth+1)
}
