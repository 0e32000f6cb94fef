package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/pkg/steps"
)

// Value is a YAML value whose string scalars may hold expressions: a step's
// configuration, a literal items list, a uses step's with:.
type Value struct {
	// Node is the value as written (aliases resolved on use).
	Node *yaml.Node
	// Refs are the step ids its expressions read.
	Refs []string
	// UsesItem reports whether an expression reads the item variable, so
	// that the value differs between items.
	UsesItem bool

	templates map[*yaml.Node]*Template
	scripts   map[*yaml.Node]bool
}

// IsLiteral reports whether the value holds no expression.
func (v *Value) IsLiteral() bool { return len(v.templates) == 0 }

// value compiles the expressions in the scalars under n.
func (p *loader) value(n *yaml.Node, sc *scope) *Value {
	v := &Value{Node: n}
	p.collect(v, n, sc, false)
	return v
}

// collect compiles the template in every scalar under n; script marks
// scalars of a steps.Script field.
func (p *loader) collect(v *Value, n *yaml.Node, sc *scope, script bool) {
	n = deref(n)
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!str" || n.ShortTag() == "!!str" {
			p.addTemplate(v, n, sc, script)
		}
	case yaml.MappingNode:
		p.duplicateKeys(n)
		for i := 1; i < len(n.Content); i += 2 {
			p.collect(v, n.Content[i], sc, false)
		}
	case yaml.SequenceNode:
		for _, e := range n.Content {
			p.collect(v, e, sc, false)
		}
	}
}

// duplicateKeys reports keys that repeat in a free-form mapping (a set:
// value, an http json: body, a with: or an items list): YAML would keep
// only the last one, silently.
func (p *loader) duplicateKeys(n *yaml.Node) {
	if len(n.Content) < 4 {
		return
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			continue
		}
		if line, dup := seen[k.Value]; dup {
			p.errorf(k.Line, k.Column, fmt.Sprintf("first defined at line %d", line), "duplicate key %q", k.Value)
			continue
		}
		seen[k.Value] = k.Line
	}
}

func (p *loader) addTemplate(v *Value, n *yaml.Node, sc *scope, script bool) *Template {
	if !containsExpr(n.Value) {
		return nil
	}
	if t, seen := v.templates[n]; seen {
		return t // an alias to a scalar of this value: counted already
	}
	key := templateKey{n, sc.itemVar, sc.allowItems, sc.blockItem}
	t, ok := p.templates[key]
	if !ok {
		t = p.template(n, sc, p.src)
		if p.templates == nil {
			p.templates = make(map[templateKey]*Template)
		}
		p.templates[key] = t
	}
	if t.IsLiteral() {
		return nil // its errors are reported
	}
	if v.templates == nil {
		v.templates = make(map[*yaml.Node]*Template)
	}
	v.templates[n] = t
	if script {
		if v.scripts == nil {
			v.scripts = make(map[*yaml.Node]bool)
		}
		v.scripts[n] = true
	}
	for _, e := range t.Exprs() {
		v.UsesItem = v.UsesItem || e.UsesItem
		for _, r := range e.Refs {
			if !slices.Contains(v.Refs, r) {
				v.Refs = append(v.Refs, r)
			}
		}
	}
	return t
}

// templateKey identifies a scalar compiled in a scope.
type templateKey struct {
	node       *yaml.Node
	itemVar    string
	allowItems bool
	blockItem  string
}

func containsExpr(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '$' && s[i+1] == '{' && s[i+2] == '{' {
			return true
		}
	}
	return false
}

// Exprs returns every expression in the value.
func (v *Value) Exprs() []*Expr {
	var out []*Expr
	for _, t := range v.templates {
		out = append(out, t.Exprs()...)
	}
	slices.SortFunc(out, func(a, b *Expr) int {
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		return a.Pos.Column - b.Pos.Column
	})
	return out
}

// Resolve returns a copy of the node with every expression evaluated
// against env. Expressions in script fields become ${FLOWRUN_EXPR_n}
// references; their values are appended to vars.
func (v *Value) Resolve(env map[string]any, vars []string) (*yaml.Node, []string, error) {
	if v.IsLiteral() {
		return v.Node, vars, nil
	}
	next := 0
	var err error
	out := v.replace(func(n *yaml.Node, t *Template) *yaml.Node {
		if err != nil {
			return n
		}
		if v.scripts[n] {
			var s string
			s, vars, err = t.Script(env, vars, &next)
			return strNode(s)
		}
		var x any
		x, err = t.Eval(env)
		return ToNode(x)
	})
	return out, vars, err
}

// zeroed returns a copy of the node with every expression replaced by
// null: the value as far as it is known before anything runs.
func (v *Value) zeroed() *yaml.Node {
	return v.replace(func(*yaml.Node, *Template) *yaml.Node { return ToNode(nil) })
}

// replace returns a copy of the node in which each scalar holding
// expressions is the node with returns; the rest is shared, not copied.
func (v *Value) replace(with func(*yaml.Node, *Template) *yaml.Node) *yaml.Node {
	var clone func(n *yaml.Node) *yaml.Node
	clone = func(n *yaml.Node) *yaml.Node {
		n = deref(n)
		if t, ok := v.templates[n]; ok {
			return with(n, t)
		}
		if len(n.Content) == 0 {
			return n
		}
		c := *n
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, ch := range n.Content {
			c.Content[i] = clone(ch)
		}
		return &c
	}
	return clone(v.Node)
}

// Eval returns the value as plain Go values (map[string]any, []any,
// strings, numbers, booleans) with expressions evaluated.
func (v *Value) Eval(env map[string]any) (any, error) {
	n, _, err := v.Resolve(env, nil)
	if err != nil {
		return nil, err
	}
	var out any
	if err := n.Decode(&out); err != nil {
		return nil, err
	}
	return normalize(out), nil
}

func strNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// ToNode turns a Go value into a YAML node, so that an evaluated
// expression can be decoded like a value written in the file.
func ToNode(x any) *yaml.Node {
	switch x := x.(type) {
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	case string:
		return strNode(x)
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(x)}
	case int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(x)}
	case int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(x, 10)}
	case uint64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatUint(x, 10)}
	case json.Number:
		// Beyond uint64 or float64 (steps.JSONNumber): as written, so that
		// a field that cannot hold it is an error, not a rounded value.
		tag := "!!int"
		if strings.ContainsAny(string(x), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(x)}
	case float64:
		if x == float64(int64(x)) && x < 1e15 && x > -1e15 {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(int64(x), 10)}
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(x, 'g', -1, 64)}
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range x {
			n.Content = append(n.Content, ToNode(e))
		}
		return n
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			n.Content = append(n.Content, strNode(k), ToNode(x[k]))
		}
		return n
	}
	// Other types (typed slices and maps from expressions, structs): go
	// through JSON to plain values.
	b, err := json.Marshal(x)
	if err != nil {
		return strNode(fmt.Sprint(x))
	}
	plain, err := steps.DecodeJSON(bytes.NewReader(b))
	if err != nil {
		return strNode(string(b))
	}
	return ToNode(plain)
}
