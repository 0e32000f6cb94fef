package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"

	"github.com/flowrun/flowrun/internal/regular"
	"github.com/flowrun/flowrun/pkg/spec"
)

// maxSetFile bounds a `--set @FILE` file, as spec.MaxFileSize does a
// workflow.
const maxSetFile = spec.MaxFileSize

// readSetFile reads `--set @FILE`: a mapping of input names to typed
// values, in YAML or JSON (which YAML reads too).
func readSetFile(file string) (map[string]any, error) {
	data, err := regular.ReadFile(file, maxSetFile)
	if err != nil {
		return nil, fmt.Errorf("--set @%s: %v", file, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return map[string]any{}, nil
	}
	var node yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&node); err != nil {
		return nil, fmt.Errorf("--set @%s: %v", file, err)
	}
	// A second document is not ignored: which one holds the inputs the
	// user meant is not for flowrun to guess.
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%s:%d:%d: more than one YAML document; --set @FILE takes a single mapping of input names to values", file, extra.Line, extra.Column)
	} else if !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("--set @%s: %v", file, err)
	}
	if len(node.Content) == 0 || node.Content[0].Kind != yaml.MappingNode {
		line, col := 1, 1
		if len(node.Content) > 0 {
			line, col = node.Content[0].Line, node.Content[0].Column
		}
		return nil, fmt.Errorf("%s:%d:%d: want a mapping of input names to values, such as `count: 3`", file, line, col)
	}
	if bad := spec.FreeForm(node.Content[0]); bad != nil {
		return nil, fmt.Errorf("%s:%d:%d: a key must be text, not a mapping or a list", file, bad.Line, bad.Column)
	}
	m := node.Content[0]
	for i := 1; i < len(m.Content); i += 2 {
		if spec.SameAsDecimal(m.Content[i]) {
			continue // count: 08 is 8 for an integer input, as --set count=08
		}
		if n, why := spec.FirstNumberOutOfRange(m.Content[i]); n != nil {
			return nil, fmt.Errorf("%s:%d:%d: %s; quote it to pass it as a string", file, n.Line, n.Column, why)
		}
	}
	var vals map[string]any
	if err := node.Decode(&vals); err != nil {
		return nil, fmt.Errorf("--set @%s: %v", file, err)
	}
	return vals, nil
}
