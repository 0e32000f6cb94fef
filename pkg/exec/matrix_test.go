package exec

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMatrixRuns: a matrix block runs each combination once, in order
// (the product, then the includes added), with the item a map of the
// combination and its key the combination, the same from run to run.
func TestMatrixRuns(t *testing.T) {
	src := `
version: 1
inputs: {services: {type: list}}
steps:
  - id: fan
    parallel:
      matrix:
        region: [eu, us]
        service: ${{ inputs.services }}
        exclude:
          - {region: us, service: web}
        include:
          - {region: eu, canary: true}
          - {region: ap, service: api}
      as: combo
    probe: {out: "${{ combo }}"}
  - id: count
    probe: {out: "${{ steps.fan.summary.total }}"}
`
	opts := Options{Inputs: map[string]any{"services": []any{"api", "web"}}}
	rep := runYAML(t, src, opts)
	fan := rep.Step("fan")
	if fan.Status != Succeeded {
		t.Fatalf("fan %s: %s", fan.Status, fan.Error)
	}
	var outs []any
	var keys []string
	for _, r := range fan.Results {
		outs = append(outs, r.Output)
		keys = append(keys, r.Key)
	}
	wantOuts := []any{
		map[string]any{"region": "eu", "service": "api", "canary": true},
		map[string]any{"region": "eu", "service": "web", "canary": true},
		map[string]any{"region": "us", "service": "api"},
		map[string]any{"region": "ap", "service": "api"},
	}
	if diff := cmp.Diff(wantOuts, outs); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	wantKeys := []string{"region=eu,service=api,canary=true", "region=eu,service=web,canary=true", "region=us,service=api", "region=ap,service=api"}
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	if c := rep.Step("count"); c.Output != 4 {
		t.Errorf("summary.total %v; want 4", c.Output)
	}
	again := runYAML(t, src, opts).Step("fan")
	for i, r := range again.Results {
		if r.Key != keys[i] {
			t.Errorf("second run: item %d key %q; first run %q", i, r.Key, keys[i])
		}
	}
}

// TestMatrixRuntimeErrors: a matrix whose expressions yield something it
// cannot expand fails its block with the position of what is wrong,
// before any item runs; a product over max_items is refused without
// being built.
func TestMatrixRuntimeErrors(t *testing.T) {
	for _, tc := range []struct{ name, matrix, want string }{
		{"axis not a list", `{region: "${{ inputs.n }}"}`, `test.yaml:5:37: matrix axis "region" must be a list, got int 3`},
		{"product over max_items", `{a: "${{ 1..1000 }}", b: "${{ 1..1000 }}", c: "${{ 1..1000 }}"}`,
			`test.yaml:5:24: step "fan": the matrix has 1000 × 1000 × 1000 = 1000000000 combinations before exclude, more than max_items 1000000`},
		{"exclude key from an expression", `{region: [eu], exclude: "${{ [{'regoin': 'eu'}] }}"}`,
			`test.yaml:5:52: step "fan": entry 1: matrix exclude key "regoin" is not an axis (did you mean "region"?)`},
		{"repeated value", `{region: "${{ ['eu', 'eu'] }}"}`,
			`test.yaml:5:37: step "fan": matrix axis "region" lists "eu" twice (values 1 and 2)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := runYAML(t, `
version: 1
inputs: {n: {type: integer}}
steps:
  - id: fan
    parallel: {matrix: `+tc.matrix+`}
    probe: {}
`, Options{Inputs: map[string]any{"n": 3}})
			fan := rep.Step("fan")
			if fan.Status != Failed || !strings.Contains(fan.Error, tc.want) {
				t.Errorf("fan %s: %q; want failed with %q", fan.Status, fan.Error, tc.want)
			}
			if len(probes.started) != 0 || fan.Summary != nil {
				t.Errorf("items ran: %v", probes.started)
			}
		})
	}
}

// TestMatrixWithLimit: a matrix's items can be limited per axis value.
func TestMatrixWithLimit(t *testing.T) {
	l := &spans{}
	wf := loadWith(t, spanRegistry(l), `
version: 1
steps:
  - id: fan
    parallel:
      matrix: {region: [eu, us], shard: "${{ 0..9 }}"}
      limit: {key: "${{ item.region }}", max: 3}
      workers: 8
    span: {host: "${{ item.region }}", delay: 2ms}
`)
	rep := Run(context.Background(), wf, Options{})
	if s := rep.Step("fan").Summary; s.Succeeded != 20 || s.Limits[0].Peak > 3 {
		t.Fatalf("summary %+v", s)
	}
	perHost, _ := peak(l.intervals)
	for h, n := range perHost {
		if n > 3 {
			t.Errorf("region %s ran %d at once; the limit is 3", h, n)
		}
	}
}
