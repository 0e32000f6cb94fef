package spec

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/pkg/steps"
)

// checkExpr is a steps.Expression field compiled once, when the workflow
// is loaded. Each `${{ }}` in the field is a variable of the compiled
// program ($flowrun0, $flowrun1, ...), so the value of a `${{ }}` is data
// whatever text it holds: `body.n == ${{ item }}` with the item
// "999 || true" compares body.n with that string. Inside a string literal
// (`"ns-${{ item }}"`) the literal is split around the variable, which then
// holds the value's text, as pasting it would have given.
type checkExpr struct {
	program *vm.Program
	// names[i] is the variable of the template's i-th expression; text[i]
	// whether it is bound to the value's text rather than the value.
	names []string
	text  []bool
}

// Eval runs the program; it implements steps.Evaluator.
func (c *checkExpr) Eval(vars map[string]any) (any, error) {
	v, err := vm.Run(c.program, vars)
	if err != nil {
		return nil, unwrapExprErr(err)
	}
	return v, nil
}

// bind evaluates the template's `${{ }}` against env: the variables of one
// evaluation of the check.
func (c *checkExpr) bind(t *Template, env map[string]any) (map[string]any, error) {
	exprs := t.Exprs()
	if len(exprs) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(exprs))
	for i, e := range exprs {
		v, err := e.Eval(env)
		if err != nil {
			return nil, err
		}
		if c.text[i] {
			v = Text(v)
		}
		out[c.names[i]] = v
	}
	return out, nil
}

// checkExpr compiles the Expression field n, whose template is t, for the
// environment decl declares. path names the field in errors.
func (p *loader) checkExpr(t *Template, n *yaml.Node, decl steps.ExpressionEnv, path string) *checkExpr {
	c := &checkExpr{}
	source, err := c.render(t)
	if err != nil {
		p.errorf(n.Line, n.Column, "", "%s: %v", path, err)
		return nil
	}
	if strings.TrimSpace(source) == "" {
		p.errorf(n.Line, n.Column, "leave the field out for no check", "%s: empty expression", path)
		return nil
	}
	if len(source) > maxExprLen {
		p.errorf(n.Line, n.Column, "", "%s: expression is %d bytes long; the limit is %d", path, len(source), maxExprLen)
		return nil
	}
	if tooDeep(source, maxExprDepth) >= 0 {
		p.errorf(n.Line, n.Column, "split it", "%s: expression nests more than %d levels deep", path, maxExprDepth)
		return nil
	}
	env := types.Map{}
	for name, sample := range decl.Vars {
		env[name] = types.Any
		if sample != nil {
			env[name] = types.TypeOf(sample)
		}
	}
	for _, name := range c.names {
		env[name] = types.Any
	}
	tree, err := parser.ParseWithConfig(source, parseConf)
	if err == nil {
		c.program, err = compileTree(tree, env, decl.Bool)
	}
	if err != nil {
		p.errorf(n.Line, n.Column, "", "%s: %v", path, unwrapExprErr(err))
		return nil
	}
	return c
}

// render returns the field's text with each `${{ }}` replaced by its
// variable, and names the variables.
func (c *checkExpr) render(t *Template) (string, error) {
	var out []byte
	var quote byte // the quote of the string literal we are in, or 0
	open, split := 0, false
	for _, pt := range t.parts {
		if pt.expr != nil {
			name := "$flowrun" + strconv.Itoa(len(c.names))
			c.names = append(c.names, name)
			c.text = append(c.text, quote != 0)
			if quote != 0 {
				out = append(out, quote)
				out = append(out, " + "+name+" + "...)
				out = append(out, quote)
				split = true
			} else {
				out = append(out, " "+name+" "...)
			}
			continue
		}
		s := pt.text
		for i := 0; i < len(s); i++ {
			ch := s[i]
			switch {
			case quote != 0 && ch == '\\' && quote != '`':
				if i+1 == len(s) {
					return "", errors.New(`a backslash before ${{ }} inside a string literal escapes nothing; remove it`)
				}
				out = append(out, ch, s[i+1])
				i++
				continue
			case quote != 0 && ch == quote:
				quote = 0
				if split {
					// ("ns-" + $flowrun0 + "") keeps the literal one operand.
					out = append(out[:open], append([]byte{'('}, out[open:]...)...)
					out = append(out, ch, ')')
					split = false
					continue
				}
			case quote == 0 && (ch == '"' || ch == '\'' || ch == '`'):
				quote, open = ch, len(out)
			}
			out = append(out, ch)
		}
	}
	return string(out), nil
}

// fieldStep is one step from a decoded configuration value down to one of
// its fields: a struct field (by index) or a list element.
type fieldStep struct {
	field []int
	elem  int
}

// decodeConfig resolves v against env and decodes it into a new value of
// the step type, then validates it: the single way a configuration
// becomes a steps.Step. Script fields hold ${FLOWRUN_EXPR_n} references
// whose values are appended to vars; Expression fields hold their compiled
// check with this item's values bound.
func (v *Value) decodeConfig(info steps.Info, env map[string]any, vars []string) (steps.Step, []string, error) {
	n, vars, exprs, err := v.resolve(env, vars)
	if err != nil {
		return nil, vars, err
	}
	st, err := decodeStep(info, n)
	if err != nil {
		return nil, vars, err
	}
	if len(exprs) > 0 {
		if st, err = setExpressions(st, exprs); err != nil {
			return nil, vars, err
		}
	}
	if val, ok := st.(steps.Validator); ok {
		if err := val.Validate(); err != nil {
			return nil, vars, err
		}
	}
	return st, vars, nil
}

// setExpressions puts each compiled Expression into its field of st.
func setExpressions(st steps.Step, exprs []boundExpr) (steps.Step, error) {
	root := reflect.ValueOf(st)
	for _, b := range exprs {
		f := root
		for _, s := range b.slot.fields {
			for f.Kind() == reflect.Pointer {
				f = f.Elem()
			}
			var err error
			if s.field != nil {
				f, err = f.FieldByIndexErr(s.field)
			} else if f.Kind() == reflect.Slice && s.elem < f.Len() {
				f = f.Index(s.elem)
			} else {
				err = errors.New("no such element")
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %v", b.slot.path, err)
			}
		}
		for f.Kind() == reflect.Pointer && !f.IsNil() {
			f = f.Elem()
		}
		if f.Type() != expressionType || !f.CanSet() {
			return nil, fmt.Errorf("%s: cannot set the compiled expression", b.slot.path)
		}
		f.Set(reflect.ValueOf(steps.NewExpression(b.slot.tpl.Raw, b.slot.check, b.bound)))
	}
	return st, nil
}

// CompileExpression compiles source, an expression without `${{ }}`, as
// the loader compiles a steps.Expression field declared by decl, with the
// same limits. It lets a step's tests (and a program that builds a
// configuration in Go) get a compiled Expression.
func CompileExpression(source string, decl steps.ExpressionEnv) (steps.Expression, error) {
	if strings.Contains(source, "${{") {
		return steps.Expression{}, errors.New("CompileExpression takes no ${{ }}; pass values as variables")
	}
	p := &loader{diags: &diags{}}
	t := &Template{Raw: source, parts: []part{{text: source}}}
	c := p.checkExpr(t, &yaml.Node{Line: 1, Column: 1}, decl, "expression")
	if c == nil {
		return steps.Expression{}, errors.New(p.list[0].Summary)
	}
	return steps.NewExpression(source, c, nil), nil
}
