package exec

import "testing"

// TestMaxWorkers: the run's connection pools are sized to the items that
// may be in flight at once, and left uncapped when a block's workers are
// known only at run time.
func TestMaxWorkers(t *testing.T) {
	tests := []struct {
		name, steps string
		want        int
	}{
		{"single steps", "  - {id: a, probe: {}}\n  - {id: b, probe: {}}\n", 2},
		{"blocks side by side", "  - {id: a, parallel: {items: [1], workers: 5}, probe: {}}\n  - {id: b, parallel: {items: [1], workers: 7}, probe: {}}\n", 12},
		{"default workers", "  - {id: a, parallel: {items: [1]}, probe: {}}\n", 3},
		{"workers expression", "  - {id: a, parallel: {items: [1], workers: '${{ inputs.w }}'}, probe: {}}\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := load(t, "version: 1\ninputs: {w: {type: integer, default: 200}}\nsteps:\n"+tt.steps)
			if got := maxWorkers(wf, Options{Workers: 3}); got != tt.want {
				t.Errorf("got %d; want %d", got, tt.want)
			}
		})
	}
}
