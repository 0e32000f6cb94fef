package cluster

import (
	"fmt"

	"github.com/flowrun/flowrun/pkg/steps"
)

// sendable returns v as it travels to workers: its NaN and ±Inf, which
// JSON cannot hold as numbers, written as the strings steps.NonFinite
// writes, and where they were (steps.NonFinitePaths; nil when v holds
// none), so that the worker restores them as floats (received) and a
// string "NaN" stays a string. v is not modified.
func sendable(v any) (any, [][]any) {
	paths := steps.NonFinitePaths(v)
	if paths == nil {
		return v, nil
	}
	return steps.NonFinite(v, "", nil), paths
}

// received restores the NaN and ±Inf of a value sendable wrote, in place.
func received(v any, paths [][]any) (any, error) {
	if len(paths) == 0 {
		return v, nil
	}
	return steps.RestoreNonFinite(v, paths)
}

// receivedMap is received for a map (inputs, steps).
func receivedMap(m map[string]any, paths [][]any) (map[string]any, error) {
	v, err := received(m, paths)
	if err != nil {
		return nil, err
	}
	out, ok := v.(map[string]any)
	if !ok && v != nil {
		return nil, fmt.Errorf("a map restored as %T", v)
	}
	return out, nil
}
