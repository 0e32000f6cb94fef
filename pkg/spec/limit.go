package spec

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// Limit caps how many items of a parallel block that share a key run at
// once, on top of the block's workers: `limit: {key: ${{ item.host }},
// max: 2}` runs at most two items per host. A block may have several
// limits; an item then waits until each of its keys has room.
type Limit struct {
	Pos Pos
	// Key is evaluated per item, before it is dispatched; its text is the
	// key. It reads the item.
	Key *Template
	// Max is the most items with one key value running at once; MaxExpr,
	// when set, computes it when the block starts.
	Max     int
	MaxExpr *Expr
}

// LimitKeys are the keys of one limit: mapping.
var LimitKeys = []string{"key", "max"}

const limitHint = "write limit: {key: ${{ item.host }}, max: 2}, or a list of such limits"

// limits parses a parallel block's limit:, one mapping or a list of them.
// inner is the scope of per-item expressions, blockScope the step's.
func (p *loader) limits(n *yaml.Node, inner, blockScope *scope) []*Limit {
	var nodes []*yaml.Node
	switch n.Kind {
	case yaml.MappingNode:
		nodes = []*yaml.Node{n}
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			p.errorf(n.Line, n.Column, limitHint, "limit is an empty list")
		}
		for _, e := range n.Content {
			nodes = append(nodes, deref(e))
		}
	default:
		p.errorf(n.Line, n.Column, limitHint, "limit must be a mapping or a list of mappings, not %s", kindName(n))
		return nil
	}
	var out []*Limit
	for _, ln := range nodes {
		if l := p.limit(ln, inner, blockScope); l != nil {
			out = append(out, l)
		}
	}
	return out
}

func (p *loader) limit(n *yaml.Node, inner, blockScope *scope) *Limit {
	f := p.fields(n, "limit", LimitKeys)
	if f == nil {
		return nil
	}
	l := &Limit{Pos: Pos{p.file, n.Line, n.Column}}
	ok := true
	if v, has := f["key"]; !has {
		p.errorf(n.Line, n.Column, "add key: ${{ item.host }}, the value items share", "limit has no key")
		ok = false
	} else if kn := deref(v.value); kn.Kind != yaml.ScalarNode || !containsExpr(kn.Value) {
		p.errorf(kn.Line, kn.Column, "a limit's key is an expression of the item, such as ${{ item.host }}", "limit key must be an expression, not %s", kindName(kn))
		ok = false
	} else if l.Key = p.template(kn, inner, p.src); !l.Key.IsLiteral() && !readsItem(l.Key) {
		p.errorf(kn.Line, kn.Column, "with the same key for every item, the limit is the block's workers: write workers: N instead", "limit key does not read %q or index", inner.itemVar)
		ok = false
	}
	if v, has := f["max"]; !has {
		p.errorf(n.Line, n.Column, "add max: N, the most items with one key running at once", "limit has no max")
		ok = false
	} else {
		mn := deref(v.value)
		if mn.Kind == yaml.ScalarNode && containsExpr(mn.Value) {
			t := p.template(mn, blockScope, p.src)
			if l.MaxExpr = t.Single(); l.MaxExpr == nil && len(t.Exprs()) > 0 {
				p.errorf(mn.Line, mn.Column, "", "limit max must be one ${{ }} expression or a positive integer")
			}
		} else {
			l.Max = p.positiveInt(mn, "limit max")
		}
	}
	if !ok || l.Key == nil || len(l.Key.Exprs()) == 0 {
		return nil
	}
	return l
}

func readsItem(t *Template) bool {
	for _, e := range t.Exprs() {
		if e.UsesItem {
			return true
		}
	}
	return false
}

// Source is the limit's key as written, for plans and summaries.
func (l *Limit) Source() string { return strings.TrimSpace(l.Key.Raw) }
