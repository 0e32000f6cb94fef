package spec

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/pkg/steps"
)

// Template is a YAML string that may hold `${{ }}` expressions.
type Template struct {
	// Raw is the string as written.
	Raw string
	// Pos is the position of the scalar in the file.
	Pos   Pos
	parts []part
}

type part struct {
	text string
	expr *Expr
}

// IsLiteral reports whether the template holds no expression.
func (t *Template) IsLiteral() bool { return len(t.Exprs()) == 0 }

// Single returns the expression when the template is exactly one `${{ }}`
// (its value keeps its type), or nil.
func (t *Template) Single() *Expr {
	if len(t.parts) == 1 && t.parts[0].expr != nil {
		return t.parts[0].expr
	}
	return nil
}

// Exprs returns the template's expressions in order.
func (t *Template) Exprs() []*Expr {
	var out []*Expr
	for _, p := range t.parts {
		if p.expr != nil {
			out = append(out, p.expr)
		}
	}
	return out
}

// Eval evaluates the template: a single expression yields its typed value;
// anything else yields a string with each value turned into text.
func (t *Template) Eval(env map[string]any) (any, error) { return t.EvalWith(nil, env) }

// EvalWith is Eval with the expressions evaluated on ev (nil: as Eval).
func (t *Template) EvalWith(ev *Evaluator, env map[string]any) (any, error) {
	if e := t.Single(); e != nil {
		return ev.Eval(e, env)
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.expr == nil {
			b.WriteString(p.text)
			continue
		}
		v, err := ev.Eval(p.expr, env)
		if err != nil {
			return nil, err
		}
		b.WriteString(Text(v))
	}
	return b.String(), nil
}

// UsesIndex reports whether an expression of the template reads index.
func (t *Template) UsesIndex() bool {
	for _, e := range t.Exprs() {
		if e.UsesIndex {
			return true
		}
	}
	return false
}

// Script renders the template for an interpreter such as a shell: each
// expression becomes a reference to an environment variable, ${NAME},
// and its value is appended to vars as NAME=value. A value therefore can
// never run as code. next numbers the variables across one step.
func (t *Template) Script(env map[string]any, vars []string, next *int) (string, []string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.expr == nil {
			b.WriteString(p.text)
			continue
		}
		v, err := p.expr.Eval(env)
		if err != nil {
			return "", vars, err
		}
		name := "FLOWRUN_EXPR_" + strconv.Itoa(*next)
		*next++
		b.WriteString("${" + name + "}")
		vars = append(vars, name+"="+Text(v))
	}
	return b.String(), vars, nil
}

// Text turns a value into the text that stands for it inside a string:
// strings as they are, nil as nothing, lists and maps as JSON.
func Text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case fmt.Stringer:
		return v.String()
	}
	// NaN and ±Inf inside a list or a map read as they do alone.
	b, err := json.Marshal(steps.NonFinite(v, "", nil))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// template parses and compiles the expressions in a scalar node.
func (c *diags) template(n *yaml.Node, sc *scope, src *lineIndex) *Template {
	t := &Template{Raw: n.Value, Pos: Pos{c.file, n.Line, n.Column}}
	c.asText(n)
	rest, off := n.Value, 0
	for {
		i := strings.Index(rest, "${{")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, part{text: rest})
			}
			return t
		}
		if i > 0 {
			t.parts = append(t.parts, part{text: rest[:i]})
		}
		end := closing(rest[i+3:])
		if end < 0 {
			line, col := valuePos(n, off+i, src)
			c.errorf(line, col, "close it with }}", "unterminated expression")
			return t
		}
		srcText := rest[i+3 : i+3+end]
		e := c.compileAt(srcText, n, off+i+3, src, sc, false)
		if e != nil {
			t.parts = append(t.parts, part{expr: e})
		}
		consumed := i + 3 + end + 2
		rest, off = rest[consumed:], off+consumed
	}
}

// closing finds the `}}` that ends an expression, skipping string literals
// and the braces of map literals (`${{ {a: {b: 1}} }}`).
func closing(s string) int {
	end, depth := -1, 0
	scanCode(s, func(i int) bool {
		switch {
		case s[i] == '{':
			depth++
		case s[i] == '}' && depth > 0:
			depth--
		case s[i] == '}' && i+1 < len(s) && s[i+1] == '}':
			end = i
			return false
		}
		return true
	})
	return end
}

// scanCode calls fn with the index of each byte of an expression's text
// that is outside its string literals, until fn returns false.
func scanCode(s string, fn func(i int) bool) {
	var quote byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0:
			if ch == '\\' && quote != '`' {
				i++
			} else if ch == quote {
				quote = 0
			}
		case ch == '"' || ch == '\'' || ch == '`':
			quote = ch
		default:
			if !fn(i) {
				return
			}
		}
	}
}
