package spec

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// staticMatrix expands a matrix written without expressions when the file
// is loaded, with the rules the run uses (Expand): its size becomes the
// block's StaticCount (plan, graph, max_items), and its problems are
// reported where they are written. A matrix with expressions is expanded
// when its block starts; only what is written is checked now.
func (p *loader) staticMatrix(b *Parallel, n *yaml.Node) {
	m := b.Matrix
	if m.invalid || !m.IsLiteral() {
		return
	}
	mv, err := m.Eval(nil)
	if err != nil {
		p.errorf(m.Pos.Line, m.Pos.Column, "", "%v", err)
		return
	}
	x, err := Expand(mv, b.MaxItems, b.Key == nil)
	if err != nil {
		var me *MatrixError
		if !errors.As(err, &me) {
			p.errorf(m.Pos.Line, m.Pos.Column, "", "%v", err)
			return
		}
		at := matrixNode(n, me)
		p.errorf(at.Line, at.Column, me.Detail, "%s", me.Summary)
		return
	}
	b.StaticCount = x.Len()
	p.matrixWarnings(n, mv, x)
}

// matrixNode returns the node of matrix n a MatrixError is about: an
// axis value, an entry or its key, or n itself.
func matrixNode(n *yaml.Node, me *MatrixError) *yaml.Node {
	want := me.Part
	if want == "axis" {
		want = me.Axis
	}
	var list *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == want {
			list = deref(n.Content[i+1])
		}
	}
	index := me.Entry
	if me.Part == "axis" {
		index = me.Value
	}
	if list == nil || list.Kind != yaml.SequenceNode || index < 0 || index >= len(list.Content) {
		return n
	}
	entry := deref(list.Content[index])
	if me.Key != "" && entry.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(entry.Content); i += 2 {
			if entry.Content[i].Value == me.Key {
				return entry.Content[i]
			}
		}
	}
	return entry
}

// matrixWarnings points at entries that do nothing, or something else
// than GitHub Actions would make of them: an exclude entry that matches
// no combination, and an include entry that matches none only because
// values compare exactly here ("Windows" is not "windows", "16" is not
// 16) and so adds a combination where GitHub Actions would extend one.
func (p *loader) matrixWarnings(n *yaml.Node, mv MatrixValues, x *Expansion) {
	for _, part := range []struct {
		what    string
		entries []any
		matched []bool
	}{{"exclude", mv.Exclude, x.ExcludeMatched}, {"include", mv.Include, x.IncludeMatched}} {
		for i, e := range part.entries {
			if part.matched[i] {
				continue
			}
			entry, _ := e.(map[string]any)
			near := nearMiss(mv, entry)
			if part.what == "include" && near == "" {
				continue // an include that adds a combination, as meant
			}
			at := matrixNode(n, &MatrixError{Part: part.what, Entry: i, Value: -1})
			summary := fmt.Sprintf("matrix exclude entry %d matches no combination", i+1)
			if part.what == "include" {
				summary = fmt.Sprintf("matrix include entry %d matches no combination, so it adds one", i+1)
			}
			p.warnf(at.Line, at.Column, near, "%s", summary)
		}
	}
}

// nearMiss explains an entry value that no axis value equals but one
// equals when case and types are ignored, as GitHub Actions compares
// them; "" when there is none.
func nearMiss(mv MatrixValues, entry map[string]any) string {
	for a, name := range mv.Names {
		want, ok := entry[name]
		if !ok {
			continue
		}
		exact, loose := false, ""
		for _, v := range mv.Axes[a] {
			if matchValue(want, v) {
				exact = true
				break
			}
			if loose == "" && strings.EqualFold(Text(want), Text(v)) {
				loose = Text(v)
			}
		}
		if !exact && loose != "" {
			return fmt.Sprintf("values compare exactly: %s %s is not the axis value %q (GitHub Actions would ignore case and types here)", name, quoteValue(want), loose)
		}
	}
	return ""
}

func quoteValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return Text(v)
}
