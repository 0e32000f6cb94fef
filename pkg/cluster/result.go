package cluster

import (
	"encoding/json"

	"github.com/flowrun/flowrun/pkg/exec"
	"github.com/flowrun/flowrun/pkg/steps"
)

// remoteResult is an item's result as it travels from a worker to the
// coordinator: the exec.ItemResult's JSON (its output's NaN and ±Inf as
// the strings steps.NonFinite writes) and, when the output holds any,
// "nonfinite": where they are (steps.NonFinitePaths), so that the
// coordinator gives the block the floats the item returned, not their
// text. A coordinator that does not know the field ignores it.
type remoteResult struct {
	*exec.ItemResult
	NonFinite [][]any `json:"nonfinite,omitempty"`
}

// encodeResult writes res as a remoteResult. (Encoding a remoteResult
// would take the ItemResult's MarshalJSON for the whole, dropping
// NonFinite: the field is added to that JSON object instead.)
func encodeResult(res *exec.ItemResult) ([]byte, error) {
	out, err := json.Marshal(res)
	if err != nil || res.Output == nil {
		return out, err
	}
	paths := steps.NonFinitePaths(res.Output)
	if paths == nil {
		return out, nil
	}
	p, err := json.Marshal(paths)
	if err != nil {
		return nil, err
	}
	// out is one JSON object: its last byte is its closing brace.
	out = append(out[:len(out)-1], `,"nonfinite":`...)
	out = append(out, p...)
	return append(out, '}'), nil
}
