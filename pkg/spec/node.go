package spec

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/internal/suggest"
)

// kindName names a node's kind for error messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!int", "!!float":
			return "the number " + truncate(n.Value, 20)
		case "!!bool":
			return "a boolean"
		}
		return fmt.Sprintf("the string %q", truncate(n.Value, 40))
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

func truncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// field is one key/value pair of a mapping node.
type field struct {
	key, value *yaml.Node
}

// fields checks that n is a mapping whose keys are all in known, reporting
// unknown keys (with a suggestion) and duplicates at the key's position. It
// returns the pairs by key, in file order. what names the mapping for
// messages ("step", "parallel block").
func (c *diags) fields(n *yaml.Node, what string, known []string) map[string]field {
	if n.Kind != yaml.MappingNode {
		c.errorf(n.Line, n.Column, "", "%s must be a mapping, not %s", what, kindName(n))
		return nil
	}
	out := make(map[string]field, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			c.errorf(k.Line, k.Column, "", "%s keys must be strings, not %s", what, kindName(k))
			continue
		}
		c.asText(k)
		if prev, dup := out[k.Value]; dup {
			c.errorf(k.Line, k.Column, fmt.Sprintf("first defined at line %d", prev.key.Line), "duplicate key %q in %s", k.Value, what)
			continue
		}
		if known != nil && !slices.Contains(known, k.Value) {
			c.errorf(k.Line, k.Column, unknownKeyDetail(k.Value, known), "unknown key %q in %s", k.Value, what)
			continue
		}
		out[k.Value] = field{k, v}
	}
	return out
}

// misspelled reports whether mapping n has an unknown key whose closest
// known key is want: that key is reported already, and "missing want"
// would only repeat it.
func misspelled(n *yaml.Node, known []string, want string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if !slices.Contains(known, k) && suggest.Closest(k, known) == want {
			return true
		}
	}
	return false
}

func unknownKeyDetail(key string, known []string) string {
	if s := suggest.Closest(key, known); s != "" {
		return didYouMean(s)
	}
	if strings.ContainsAny(key, "-ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		if s := suggest.Closest(toSnake(key), known); s != "" || slices.Contains(known, toSnake(key)) {
			return fmt.Sprintf("keys are snake_case: did you mean %q?", toSnake(key))
		}
	}
	return "expected one of: " + strings.Join(known, ", ")
}

func toSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '-':
			b.WriteByte('_')
		case r >= 'A' && r <= 'Z':
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r + 'a' - 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// str decodes a scalar string, reporting anything else.
func (c *diags) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		c.errorf(n.Line, n.Column, "", "%s must be a string, not %s", what, kindName(n))
		return "", false
	}
	c.asText(n)
	return n.Value, true
}

// stringList decodes a string or a list of strings.
func (c *diags) stringList(n *yaml.Node, what string) []*yaml.Node {
	switch n.Kind {
	case yaml.ScalarNode:
		if _, ok := c.str(n, what); ok {
			return []*yaml.Node{n}
		}
	case yaml.SequenceNode:
		var out []*yaml.Node
		for _, e := range n.Content {
			if _, ok := c.str(e, what+" entries"); ok {
				out = append(out, e)
			}
		}
		return out
	default:
		c.errorf(n.Line, n.Column, "", "%s must be a string or a list of strings, not %s", what, kindName(n))
	}
	return nil
}

func closestName(name string, names []string) string { return suggest.Closest(name, names) }

func sortStrings(s []string) { slices.Sort(s) }
