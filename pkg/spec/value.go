package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/pkg/steps"
)

// Value is a YAML value whose string scalars may hold expressions: a step's
// configuration, a literal items list, a uses step's with:.
//
// Each scalar that holds expressions is a slot, identified by where it sits
// in the value (its config path: "script", "expect.json", "argv[2]"), not
// by the YAML node: an anchor and its aliases are one node but several
// slots, and each slot reaches its expressions by the rule of its own field
// (see reachOf). Whichever occurrence is walked first therefore cannot
// decide for the others.
type Value struct {
	// Node is the value as written (aliases resolved on use).
	Node *yaml.Node
	// Refs are the step ids its expressions read.
	Refs []string
	// UsesItem reports whether an expression reads the item variable, so
	// that the value differs between items.
	UsesItem bool

	slots []*slot
	root  *slotTree
	// static is the decoded step of a configuration without expressions
	// (see Step.Decode); nil otherwise.
	static steps.Step
}

// slot is one scalar of a Value that expressions reach.
type slot struct {
	// path is the config path of the scalar ("expect.json", "argv[2]").
	path  string
	tpl   *Template
	reach reach
	// fields leads from the decoded step to the field (reachExpression).
	fields []fieldStep
	// check is the compiled expression (reachExpression).
	check *checkExpr
}

// slotTree mirrors the part of a Value's YAML tree that holds slots, by
// index in each node's Content, so that resolving walks only that part and
// builds no path strings.
type slotTree struct {
	slot *slot
	kids map[int]*slotTree
}

// cursor is where a walk over a Value stands: the Content indices from the
// value's root and the config path they spell.
type cursor struct {
	trail []int
	path  string
}

func (c cursor) key(i int, name string) cursor {
	return cursor{append(slices.Clip(c.trail), i), joinPath(c.path, name)}
}

func (c cursor) index(i int) cursor {
	return cursor{append(slices.Clip(c.trail), i), c.path + "[" + strconv.Itoa(i) + "]"}
}

// joinPath appends a mapping key to a config path; a key that is not a
// plain name is quoted, so that no two places share a path.
func joinPath(path, name string) string {
	if !plainName(name) {
		return path + "[" + strconv.Quote(name) + "]"
	}
	if path == "" {
		return name
	}
	return path + "." + name
}

func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c == '-' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// IsLiteral reports whether the value holds no expression.
func (v *Value) IsLiteral() bool {
	for _, s := range v.slots {
		if !s.tpl.IsLiteral() {
			return false
		}
	}
	return true
}

// value compiles the expressions in the scalars under n.
func (p *loader) value(n *yaml.Node, sc *scope) *Value {
	p.freeForm(n)
	v := &Value{Node: n}
	p.collect(v, n, sc, cursor{})
	return v
}

// collect compiles the template in every string scalar under n: a free
// form value, whose expressions reach it as values (reachValue).
func (p *loader) collect(v *Value, n *yaml.Node, sc *scope, at cursor) {
	n = deref(n)
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!str" || n.ShortTag() == "!!str" {
			p.addTemplate(v, n, sc, at, reachValue)
		}
	case yaml.MappingNode:
		p.duplicateKeys(n)
		for i := 1; i < len(n.Content); i += 2 {
			p.collect(v, n.Content[i], sc, at.key(i, n.Content[i-1].Value))
		}
	case yaml.SequenceNode:
		for i, e := range n.Content {
			p.collect(v, e, sc, at.index(i))
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

// addTemplate compiles the scalar n, at in v, when it holds expressions,
// and gives it a slot reached by r.
func (p *loader) addTemplate(v *Value, n *yaml.Node, sc *scope, at cursor, r reach) *Template {
	if !containsExpr(n.Value) {
		return nil
	}
	t := p.compiledTemplate(n, sc)
	if t.IsLiteral() {
		return nil // its errors are reported
	}
	v.add(&slot{path: at.path, tpl: t, reach: r}, at)
	return t
}

// compiledTemplate compiles the scalar n in sc once, however many slots
// (aliases) share it.
func (p *loader) compiledTemplate(n *yaml.Node, sc *scope) *Template {
	key := templateKey{n, sc.itemVar, sc.allowItems, sc.blockItem, sc.envs.id, sc.item}
	t, ok := p.templates[key]
	if !ok {
		t = p.template(n, sc, p.src)
		if p.templates == nil {
			p.templates = make(map[templateKey]*Template)
		}
		p.templates[key] = t
	}
	return t
}

// add records s at the place at names.
func (v *Value) add(s *slot, at cursor) {
	if v.root == nil {
		v.root = &slotTree{}
	}
	node := v.root
	for _, i := range at.trail {
		if node.kids == nil {
			node.kids = make(map[int]*slotTree)
		}
		next := node.kids[i]
		if next == nil {
			next = &slotTree{}
			node.kids[i] = next
		}
		node = next
	}
	node.slot = s
	v.slots = append(v.slots, s)
	for _, e := range s.tpl.Exprs() {
		v.UsesItem = v.UsesItem || e.UsesItem
		for _, r := range e.Refs {
			if !slices.Contains(v.Refs, r) {
				v.Refs = append(v.Refs, r)
			}
		}
	}
}

// templateKey identifies a scalar compiled in a scope.
type templateKey struct {
	node       *yaml.Node
	itemVar    string
	allowItems bool
	blockItem  string
	envID      int
	item       *itemShape
}

func containsExpr(s string) bool {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '$' && s[i+1] == '{' && s[i+2] == '{' {
			return true
		}
	}
	return false
}

// Exprs returns every expression in the value, once each, in file order.
func (v *Value) Exprs() []*Expr {
	var out []*Expr
	for _, s := range v.slots {
		for _, e := range s.tpl.Exprs() {
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
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
// against env, each slot by its field's rule (reachOf): in a Script field
// an expression becomes a ${FLOWRUN_EXPR_n} reference whose value is
// appended to vars; elsewhere it becomes its value. An Expression field
// keeps its text; Decode binds its values.
func (v *Value) Resolve(env map[string]any, vars []string) (*yaml.Node, []string, error) {
	n, vars, _, err := v.resolve(env, vars)
	return n, vars, err
}

// boundExpr is an Expression field's compiled check with the values of
// its `${{ }}` for one item.
type boundExpr struct {
	slot  *slot
	bound map[string]any
}

func (v *Value) resolve(env map[string]any, vars []string) (*yaml.Node, []string, []boundExpr, error) {
	if len(v.slots) == 0 {
		return v.Node, vars, nil, nil
	}
	next := 0
	var exprs []boundExpr
	var err error
	out := v.replace(func(n *yaml.Node, s *slot) *yaml.Node {
		if err != nil {
			return n
		}
		switch s.reach {
		case reachShell:
			var text string
			text, vars, err = s.tpl.Script(env, vars, &next)
			return strNode(text)
		case reachExpression:
			var bound map[string]any
			bound, err = s.check.bind(s.tpl, env)
			exprs = append(exprs, boundExpr{s, bound})
			return strNode(s.tpl.Raw)
		}
		var x any
		x, err = s.tpl.Eval(env)
		return ToNode(x)
	})
	return out, vars, exprs, err
}

// zeroed returns a copy of the node with every expression replaced by
// null: the value as far as it is known before anything runs.
func (v *Value) zeroed() *yaml.Node {
	return v.replace(func(n *yaml.Node, s *slot) *yaml.Node {
		if s.reach == reachExpression {
			return strNode(s.tpl.Raw)
		}
		return ToNode(nil)
	})
}

// replace returns a copy of the node in which each slot's scalar is the
// node with returns; the rest is shared, not copied.
func (v *Value) replace(with func(*yaml.Node, *slot) *yaml.Node) *yaml.Node {
	if v.root == nil {
		return v.Node
	}
	var clone func(n *yaml.Node, t *slotTree) *yaml.Node
	clone = func(n *yaml.Node, t *slotTree) *yaml.Node {
		n = deref(n)
		if t.slot != nil {
			return with(n, t.slot)
		}
		c := *n
		c.Content = slices.Clone(n.Content)
		for i, kid := range t.kids {
			c.Content[i] = clone(n.Content[i], kid)
		}
		return &c
	}
	return clone(v.Node, v.root)
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
		switch {
		case math.IsNaN(x):
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: ".nan"}
		case math.IsInf(x, 1):
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: ".inf"}
		case math.IsInf(x, -1):
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: "-.inf"}
		}
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
