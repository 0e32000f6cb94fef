package exec

import "testing"

// TestMaxWorkers: the run's connection pools are sized to the items that
// may be in flight at once: a workers: expression counts with its value
// when it reads only inputs and env, and leaves them uncapped when it
// reads what is known only at run time.
func TestMaxWorkers(t *testing.T) {
	tests := []struct {
		name, steps string
		want        int
	}{
		{"single steps", "  - {id: a, probe: {}}\n  - {id: b, probe: {}}\n", 2},
		{"blocks side by side", "  - {id: a, parallel: {items: [1], workers: 5}, probe: {}}\n  - {id: b, parallel: {items: [1], workers: 7}, probe: {}}\n", 12},
		{"default workers", "  - {id: a, parallel: {items: [1]}, probe: {}}\n", 3},
		{"expression of an input", "  - {id: a, parallel: {items: [1], workers: '${{ inputs.w }}'}, probe: {}}\n", 200},
		{"expression of the env", "  - {id: a, parallel: {items: [1], workers: '${{ int(env.W) + 1 }}'}, probe: {}}\n", 8},
		{"expression of a step's output", "  - {id: a, probe: {out: 4}}\n  - {id: b, parallel: {items: [1], workers: '${{ steps.a.output }}'}, probe: {}}\n", 0},
		{"expression of steps whole", "  - {id: a, probe: {out: 4}}\n  - {id: b, parallel: {items: [1], workers: '${{ len(steps) * 10 }}'}, probe: {}}\n", 0},
		{"expression in a finally step", "  - {id: a, probe: {}}\nfinally:\n  - {id: b, parallel: {items: [1], workers: '${{ inputs.w }}'}, probe: {}}\n", 0},
		{"expression that is not a count", "  - {id: a, parallel: {items: [1], workers: '${{ inputs.w - 200 }}'}, probe: {}}\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := load(t, "version: 1\ninputs: {w: {type: integer, default: 200}}\nenv: {W: \"7\"}\nsteps:\n"+tt.steps)
			r := &run{wf: wf, inputs: map[string]any{"w": 200}, env: map[string]any{"W": "7"}}
			if got := maxWorkers(wf, Options{Workers: 3}, r.scope(nil).Vars()); got != tt.want {
				t.Errorf("got %d; want %d", got, tt.want)
			}
		})
	}
}
