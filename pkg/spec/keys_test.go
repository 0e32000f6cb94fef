package spec

import (
	"strings"
	"testing"
)

// TestLiteralDuplicateKeys: a literal list whose items get one key from a
// key: that reads only the item fails at load, naming both items.
func TestLiteralDuplicateKeys(t *testing.T) {
	for _, tt := range []struct{ name, block, want string }{
		{"same names", `{items: [{n: a}, {n: b}, {n: a}], key: "${{ item.n }}"}`, `wf.yaml:6:40: items 0 and 2 have the same key "a"`},
		{"text around", `{items: [1, 2, 1], key: "k-${{ item }}"}`, `items 0 and 2 have the same key "k-1"`},
		{"distinct", `{items: [1, 2, 3], key: "${{ item }}"}`, ""},
		{"reads an input", `{items: [1, 1], key: "${{ inputs.p }}"}`, ""},
		{"index", `{items: [1, 1], key: "${{ index }}"}`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, ds := parse(t, "version: 1\ninputs:\n  p: {}\nsteps:\n  - id: fan\n    parallel: "+tt.block+"\n    run: echo\n")
			got := ds.Error()
			if tt.want == "" && ds.HasErrors() || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("diagnostics:\n%s\nwant: %q", got, tt.want)
			}
		})
	}
}
