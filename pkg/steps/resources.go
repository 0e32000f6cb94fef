package steps

import (
	"io"
	"sync"
)

// Resources holds values that every item and step of one run shares, such
// as an HTTP transport whose connections are reused across items. flowrun
// creates one per run and closes it when the run ends. It is safe for
// concurrent use.
type Resources struct {
	// Workers bounds how many items of the run may be in flight at once:
	// the sum of the worker counts of its parallel blocks (they may run
	// side by side) plus one per single step. A connection pool sized to
	// it never makes a worker wait. Zero means unknown (a block's workers
	// are computed from a step's result): size pools without a cap, and
	// keep every connection made.
	Workers int

	mu     sync.Mutex
	values map[any]any
	order  []any
}

// Load returns the value stored under key, calling create to make it the
// first time. Use an unexported type for keys, as with context values.
func (r *Resources) Load(key any, create func() any) any {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, ok := r.values[key]; ok {
		return v
	}
	if r.values == nil {
		r.values = make(map[any]any)
	}
	v := create()
	r.values[key] = v
	r.order = append(r.order, key)
	return v
}

// Close releases every stored value that is an io.Closer or has a
// CloseIdleConnections method (an *http.Transport), newest first.
func (r *Resources) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first error
	for i := len(r.order) - 1; i >= 0; i-- {
		switch v := r.values[r.order[i]].(type) {
		case io.Closer:
			if err := v.Close(); err != nil && first == nil {
				first = err
			}
		case interface{ CloseIdleConnections() }:
			v.CloseIdleConnections()
		}
	}
	r.values, r.order = nil, nil
	return first
}
