package spec

import (
	"fmt"

	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/types"
	"go.yaml.in/yaml/v3"
)

// checkLiteralKeys reports two items of a literal items: list that get
// the same key: at load, when the key reads nothing but the item and its
// index. A key identifies an item (a resumed run matches results by it),
// so two items with one key fail the block when it runs; a list written
// in the file need not wait for that.
func (p *loader) checkLiteralKeys(b *Parallel, items *yaml.Node) {
	if b.List == nil || b.Key == nil || !b.List.IsLiteral() || items.Kind != yaml.SequenceNode || len(items.Content) < 2 {
		return
	}
	only := types.Map{b.As: types.Any, "index": types.Int}
	for _, x := range b.Key.Exprs() {
		tree, err := parser.ParseWithConfig(x.Source, parseConf)
		if err != nil {
			return
		}
		if _, err := compileTree(tree, only, false); err != nil {
			return // it reads inputs, steps...: known when the block runs
		}
	}
	v, err := b.List.Eval(nil)
	list, ok := v.([]any)
	if err != nil || !ok || len(list) != len(items.Content) {
		return
	}
	seen := make(map[string]int, len(list))
	for i, item := range list {
		k, err := b.Key.Eval(map[string]any{b.As: item, "index": i})
		if err != nil {
			return // reported with its item when the block runs
		}
		key := Text(k)
		if first, dup := seen[key]; dup {
			n := deref(items.Content[i])
			p.errorf(n.Line, n.Column, fmt.Sprintf("a key identifies an item (a resumed run matches results by it): make key: at line %d tell them apart", b.Key.Pos.Line),
				"items %d and %d have the same key %q", first, i, key)
			continue
		}
		seen[key] = i
	}
}
