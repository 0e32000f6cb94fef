package spec

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/expr-lang/expr/types"
	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/internal/suggest"
)

// Matrix is a parallel block's items written as a matrix, with GitHub
// Actions' strategy.matrix semantics: the product of named axes (the first
// axis outermost), less the combinations an exclude: entry matches; then
// each include: entry extends every remaining combination it matches, or,
// matching none, is added as a combination of its own (see Expand). Each
// item is a map from the names to one combination's values, and its
// default key is the combination itself (Key).
type Matrix struct {
	Pos Pos
	// Axes are the named lists of values, in the order written.
	Axes []*Axis
	// Include and Exclude are nil when absent.
	Include, Exclude *Combos
	// ProductLen is the product of the axes' lengths when every axis is a
	// literal list (its entries may hold expressions), else -1.
	ProductLen int

	names []string
	// invalid is set when the matrix as written has errors: they are
	// reported, and expanding it would report them again.
	invalid bool
}

// Axis is one named list of values of a matrix.
type Axis struct {
	Name string
	// Pos is where the name is written.
	Pos Pos
	// List is a literal list, whose entries may hold expressions; Expr,
	// when List is nil, is one expression that yields the list.
	List *Value
	Expr *Expr
}

// Combos is a matrix's include: or exclude:, a list of partial
// combinations: a literal list of mappings (whose values may hold
// expressions), or one expression that yields such a list.
type Combos struct {
	Pos  Pos
	List *Value
	Expr *Expr
	// Keys are the keys the literal entries write, in the order first
	// written; nil for an expression.
	Keys []string
}

// Names returns the axes' names in order.
func (m *Matrix) Names() []string { return m.names }

// Key returns the default key of a matrix item: its combination, written
// as name=value pairs joined by commas — the axes in their order, then any
// key an include: added, in byte order of the names — with each value as
// text (Text: strings as they are, lists and maps as JSON, null as
// nothing) and `\`, `,` and `=` in values escaped with a backslash. So
// `region=eu,service=api`, `os=windows,node=16,npm=6`. Two different
// combinations never share a key.
func (m *Matrix) Key(item any) string {
	combo, _ := item.(map[string]any)
	return comboKey(m.names, combo)
}

// Exprs returns the matrix's expressions.
func (m *Matrix) Exprs() []*Expr {
	var out []*Expr
	for _, a := range m.Axes {
		if a.List != nil {
			out = append(out, a.List.Exprs()...)
		}
		if a.Expr != nil {
			out = append(out, a.Expr)
		}
	}
	for _, c := range []*Combos{m.Include, m.Exclude} {
		if c == nil {
			continue
		}
		if c.List != nil {
			out = append(out, c.List.Exprs()...)
		}
		if c.Expr != nil {
			out = append(out, c.Expr)
		}
	}
	return out
}

// IsLiteral reports whether the matrix holds no expression: its
// combinations are then known when the file is loaded.
func (m *Matrix) IsLiteral() bool { return len(m.Exprs()) == 0 && m.ProductLen >= 0 }

// Eval evaluates the matrix's expressions against env.
func (m *Matrix) Eval(env map[string]any) (MatrixValues, error) {
	mv := MatrixValues{Names: m.names, Axes: make([][]any, len(m.Axes))}
	for i, a := range m.Axes {
		var v any
		var err error
		pos := a.Pos
		if a.List != nil {
			v, err = a.List.Eval(env)
		} else {
			v, err = a.Expr.Eval(env)
			pos = a.Expr.Pos
		}
		if err != nil {
			return mv, err
		}
		list, ok := asList(v)
		if !ok {
			return mv, fmt.Errorf("%s: matrix axis %q must be a list, got %s", pos, a.Name, describeValue(v))
		}
		mv.Axes[i] = list
	}
	for _, c := range []struct {
		c   *Combos
		dst *[]any
		of  string
	}{{m.Include, &mv.Include, "include"}, {m.Exclude, &mv.Exclude, "exclude"}} {
		if c.c == nil {
			continue
		}
		var v any
		var err error
		pos := c.c.Pos
		if c.c.List != nil {
			v, err = c.c.List.Eval(env)
		} else {
			v, err = c.c.Expr.Eval(env)
			pos = c.c.Expr.Pos
		}
		if err != nil {
			return mv, err
		}
		list, ok := asList(v)
		if !ok {
			return mv, fmt.Errorf("%s: matrix %s must be a list of mappings, got %s", pos, c.of, describeValue(v))
		}
		*c.dst = list
	}
	return mv, nil
}

// matrixName is what an axis or an include key may be called: the names
// GitHub Actions workflows use (node-version), and no character the key
// format would have to escape.
var matrixName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

const matrixNameDetail = "names are letters, digits, _ and -, starting with a letter or _"

// matrix parses a parallel block's matrix:. sc is the scope of the
// block's items: the item variable is not defined in it.
func (p *loader) matrix(b *Parallel, n *yaml.Node, sc *scope) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, n.Column, "write matrix: {region: [eu, us], service: [api, web]}", "matrix must be a mapping of axes to lists, not %s", kindName(n))
		return
	}
	m := &Matrix{Pos: Pos{p.file, n.Line, n.Column}, ProductLen: 1}
	errorsBefore := len(p.list)
	defer func() { m.invalid = len(p.list) > errorsBefore }()
	var include, exclude *yaml.Node
	seen := map[string]int{}
	written := 0 // axes written, valid or not
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, k.Column, "", "matrix keys must be strings, not %s", kindName(k))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			p.errorf(k.Line, k.Column, fmt.Sprintf("first defined at line %d", line), "duplicate key %q in matrix", k.Value)
			continue
		}
		seen[k.Value] = k.Line
		switch k.Value {
		case "include":
			include = v
			continue
		case "exclude":
			exclude = v
			continue
		}
		written++
		if !matrixName.MatchString(k.Value) {
			p.errorf(k.Line, k.Column, matrixNameDetail, "invalid matrix axis name %q", k.Value)
			continue
		}
		ax := &Axis{Name: k.Value, Pos: Pos{p.file, k.Line, k.Column}}
		switch {
		case v.Kind == yaml.SequenceNode:
			if len(v.Content) == 0 {
				p.errorf(v.Line, v.Column, "list the axis's values, or remove it", "matrix axis %q has no values", k.Value)
			}
			ax.List = p.value(v, sc)
			m.ProductLen = mulCapped(m.ProductLen, len(v.Content))
		case v.Kind == yaml.ScalarNode && containsExpr(v.Value):
			t := p.template(v, sc, p.src)
			if ax.Expr = t.Single(); ax.Expr == nil {
				if len(t.Exprs()) > 0 {
					p.errorf(v.Line, v.Column, "write the axis as a list, or as one ${{ }} expression that yields a list", "matrix axis %q must be a list, not a string", k.Value)
				}
				continue
			}
			m.ProductLen = -1
		default:
			detail := fmt.Sprintf("write %s: [a, b], or one ${{ }} expression that yields a list", k.Value)
			if v.Kind == yaml.ScalarNode {
				detail = fmt.Sprintf("a single value is a list of one: %s: [%s]", k.Value, truncate(v.Value, 20))
			}
			p.errorf(v.Line, v.Column, detail, "matrix axis %q must be a list, not %s", k.Value, kindName(v))
			continue
		}
		m.Axes = append(m.Axes, ax)
		m.names = append(m.names, ax.Name)
	}
	if include != nil {
		m.Include = p.combos(include, "include", m.names, sc)
	}
	if exclude != nil {
		m.Exclude = p.combos(exclude, "exclude", m.names, sc)
	}
	if len(m.Axes) == 0 {
		if include == nil {
			if written == 0 {
				p.errorf(n.Line, n.Column, "add an axis such as region: [eu, us], or include: a list of combinations", "matrix has no axes")
			}
			return
		}
		m.ProductLen = 0
	}
	if m.ProductLen > b.MaxItems {
		p.errorf(n.Line, n.Column, "raise max_items if this many items is intended", "the matrix has %s combinations before exclude, more than max_items %d", productText(m), b.MaxItems)
		m.ProductLen = -1
	}
	b.Matrix = m
}

// mulCapped multiplies two non-negative counts, saturating at MaxInt so
// that a product of long axes cannot wrap around to a small number.
func mulCapped(a, b int) int {
	switch {
	case a < 0:
		return a
	case a == 0 || b == 0:
		return 0
	case a > math.MaxInt/b:
		return math.MaxInt
	}
	return a * b
}

// productText writes a matrix's product as "3 × 4 = 12", or "more than N".
func productText(m *Matrix) string {
	parts := make([]string, len(m.Axes))
	for i, a := range m.Axes {
		parts[i] = fmt.Sprint(len(a.List.Node.Content))
	}
	total := fmt.Sprint(m.ProductLen)
	if m.ProductLen == math.MaxInt {
		total = fmt.Sprintf("more than %d", math.MaxInt)
	}
	if len(parts) == 1 {
		return total
	}
	return strings.Join(parts, " × ") + " = " + total
}

// combos parses include: or exclude:, what. Entries are checked as far as
// they are written: an exclude key must be an axis (GitHub Actions
// rejects the others too), an entry must not be empty.
func (p *loader) combos(n *yaml.Node, what string, axes []string, sc *scope) *Combos {
	c := &Combos{Pos: Pos{p.file, n.Line, n.Column}}
	switch {
	case n.Kind == yaml.SequenceNode:
		for _, e := range n.Content {
			e = deref(e)
			if e.Kind != yaml.MappingNode {
				p.errorf(e.Line, e.Column, "write an entry as a mapping such as {region: eu, service: api}", "matrix %s entry must be a mapping, not %s", what, kindName(e))
				continue
			}
			if len(e.Content) == 0 {
				p.errorf(e.Line, e.Column, entryDetail(what), "empty matrix %s entry", what)
				continue
			}
			for i := 0; i+1 < len(e.Content); i += 2 {
				k := e.Content[i]
				if k.Kind != yaml.ScalarNode {
					p.errorf(k.Line, k.Column, "", "matrix %s keys must be strings, not %s", what, kindName(k))
					continue
				}
				if summary, detail := checkComboKey(what, k.Value, axes); summary != "" {
					p.errorf(k.Line, k.Column, detail, "%s", summary)
					continue
				}
				if what == "include" && !contains(c.Keys, k.Value) {
					c.Keys = append(c.Keys, k.Value)
				}
			}
		}
		c.List = p.value(n, sc)
	case n.Kind == yaml.ScalarNode && containsExpr(n.Value):
		t := p.template(n, sc, p.src)
		if c.Expr = t.Single(); c.Expr == nil && len(t.Exprs()) > 0 {
			p.errorf(n.Line, n.Column, "write a list of mappings, or one ${{ }} expression that yields one", "matrix %s must be a list, not a string", what)
		}
	default:
		p.errorf(n.Line, n.Column, "write a list of mappings such as [{region: eu, service: api}]", "matrix %s must be a list, not %s", what, kindName(n))
	}
	return c
}

func entryDetail(what string) string {
	if what == "exclude" {
		return "an exclude entry drops the combinations it matches: give it at least one axis"
	}
	return "an include entry extends or adds combinations: give it at least one key"
}

// checkComboKey checks one key of an include or exclude entry, written in
// the file or computed by an expression: the one rule for both. It returns
// the summary and detail of the problem, or "".
func checkComboKey(what, key string, axes []string) (string, string) {
	switch {
	case !matrixName.MatchString(key):
		return fmt.Sprintf("invalid matrix %s key %q", what, key), matrixNameDetail
	case what == "exclude" && !contains(axes, key):
		detail := didYouMean(suggest.Closest(key, axes))
		if detail == "" {
			detail = "an exclude entry names axes only; the axes: " + strings.Join(axes, ", ")
			if len(axes) == 0 {
				detail = "the matrix has no axes to exclude from"
			}
		}
		return fmt.Sprintf("matrix exclude key %q is not an axis", key), detail
	}
	return "", ""
}

// itemShape is what the item of a matrix block holds, for the checker:
// its keys, and whether keys no one wrote may come (an include: given by
// an expression).
type itemShape struct {
	keys []string
	open bool
}

// shape returns the item shape of a block, or nil when its items may be
// anything.
func (b *Parallel) shape() *itemShape {
	m := b.Matrix
	if m == nil {
		return nil
	}
	s := &itemShape{keys: append([]string{}, m.names...)}
	if m.Include != nil {
		s.open = m.Include.Expr != nil
		for _, k := range m.Include.Keys {
			if !contains(s.keys, k) {
				s.keys = append(s.keys, k)
			}
		}
	}
	return s
}

// typ is the checker's type of the item.
func (s *itemShape) typ() types.Type {
	m := types.Map{}
	for _, k := range s.keys {
		m[k] = types.Any
	}
	if s.open {
		m[types.Extra] = types.Any
	}
	return m
}

// has reports whether the item may have key k.
func (s *itemShape) has(k string) bool { return s.open || contains(s.keys, k) }

// matrixKeyDetail suggests the key of a matrix item closest to a
// misspelt one.
func matrixKeyDetail(name string, s *itemShape) string {
	if d := didYouMean(suggest.Closest(name, s.keys)); d != "" {
		return d
	}
	return "its keys: " + strings.Join(s.keys, ", ")
}

// PosOf returns where the part of the matrix a MatrixError names is
// written: an axis, the include or exclude list (or its expression), or
// the matrix.
func (m *Matrix) PosOf(me *MatrixError) Pos {
	var c *Combos
	switch me.Part {
	case "axis":
		for _, a := range m.Axes {
			if a.Name == me.Axis {
				if a.Expr != nil {
					return a.Expr.Pos
				}
				return a.Pos
			}
		}
	case "include":
		c = m.Include
	case "exclude":
		c = m.Exclude
	}
	switch {
	case c == nil:
		return m.Pos
	case c.Expr != nil:
		return c.Expr.Pos
	}
	return c.Pos
}
