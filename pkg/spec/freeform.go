package spec

import "go.yaml.in/yaml/v3"

// FreeForm prepares n, a value YAML will decode into Go's any — a set:
// value, an http json: body, items, a matrix, a with:, an input's default,
// --set — so that it decodes to the value as written, which JSON can hold:
//
//   - a mapping key is its text. YAML would type it, so that 0x10: became
//     "16", 1.50: "1.5", ~: "<nil>", 1: and 1.0: one key or the other, and
//     a mapping with such a key one that JSON, the journal and the report
//     cannot encode. A key that is an alias is replaced by a copy of its
//     anchor as text, so that the anchor keeps its type where it is a value.
//   - a date or a time is its text. YAML would make 2024-01-02 a time.Time,
//     written "2024-01-02 00:00:00 +0000 UTC" by ${{ }} and
//     "2024-01-02T00:00:00Z" in JSON; flowrun has no time values.
//
// Such a scalar is tagged !!str as if written `!!str 0x10`, which
// NumberOutOfRange leaves alone; other numbers are left to it. FreeForm
// changes n in place and returns the first key that is a mapping or a
// list, which no JSON object can hold, or nil. Each node is visited once,
// however many aliases lead to it.
func FreeForm(n *yaml.Node) (bad *yaml.Node) {
	seen := make(map[*yaml.Node]bool)
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		n = deref(n)
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		switch n.Kind {
		case yaml.ScalarNode:
			if n.ShortTag() == "!!timestamp" {
				tagText(n)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				switch {
				case k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge":
					// <<: merges the pairs of the mapping it names.
				case k.Kind == yaml.AliasNode && deref(k).Kind == yaml.ScalarNode:
					text := *deref(k)
					text.Anchor, text.Line, text.Column = "", k.Line, k.Column
					tagText(&text)
					n.Content[i] = &text
				case k.Kind == yaml.ScalarNode:
					tagText(k)
				default:
					if bad == nil {
						bad = k
					}
				}
				walk(n.Content[i+1])
			}
		case yaml.SequenceNode, yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c)
			}
		}
	}
	walk(n)
	return bad
}

// tagText tags the scalar n !!str, explicitly.
func tagText(n *yaml.Node) {
	n.Tag = "!!str"
	n.Style |= yaml.TaggedStyle
}

// freeForm is FreeForm for a value of the workflow: a key that is a
// mapping or a list is an error.
func (p *loader) freeForm(n *yaml.Node) {
	if bad := FreeForm(n); bad != nil {
		p.errorf(bad.Line, bad.Column, "write the key as text", "a key must be text, not %s", kindName(deref(bad)))
	}
}
