package exec

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// env.NAME reads the workflow's env: and, in a step's action, the step's
// env: over it, per item when the step's env: reads the item; a workflow
// env: entry reads the entries before it.
func TestEnvInExpressions(t *testing.T) {
	rep := runYAML(t, `
version: 1
env:
  HOST: example.test
  BASE: https://${{ env.HOST }}/v1
  REGION: eu
steps:
  - id: single
    env: {REGION: us, PATH_PART: "${{ env.REGION }}-users"}
    probe: {out: "${{ env.BASE }}/${{ env.REGION }}/${{ env.PATH_PART }}"}
  - id: fan
    parallel: {items: [a, b], key: "${{ env.REGION }}-${{ item }}"}
    env: {NAME: "ns-${{ item }}"}
    probe: {out: "${{ env.NAME }}@${{ env.REGION }}"}
  - id: shared
    parallel: {items: [1, 2]}
    env: {FIXED: fixed}
    probe: {out: "${{ env.FIXED }}${{ item }}"}
outputs:
  region: ${{ env.REGION }}
`, Options{})
	if rep.Status != Succeeded {
		t.Fatalf("run %s: %s", rep.Status, rep.Error)
	}
	got := map[string]any{
		"single": rep.Step("single").Output,
		"fan":    []any{rep.Step("fan").Results[0].Output, rep.Step("fan").Results[1].Output},
		"keys":   []any{rep.Step("fan").Results[0].Key, rep.Step("fan").Results[1].Key},
		"shared": []any{rep.Step("shared").Results[0].Output, rep.Step("shared").Results[1].Output},
		"region": rep.Outputs["region"],
	}
	want := map[string]any{
		// The step's entries read the workflow's env:, not each other.
		"single": "https://example.test/v1/us/eu-users",
		"fan":    []any{"ns-a@eu", "ns-b@eu"},
		// parallel: reads the workflow's env:.
		"keys":   []any{"eu-a", "eu-b"},
		"shared": []any{"fixed1", "fixed2"},
		"region": "eu",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
}

// A uses step's with: reads the step's env:.
func TestUsesWithReadsStepEnv(t *testing.T) {
	wf := loadFiles(t, map[string]string{"square.yaml": square, "main.yaml": `
version: 1
steps:
  - id: one
    env: {N: "3"}
    uses: ./square.yaml
    with: {n: "${{ int(env.N) }}"}
  - id: each
    parallel: {items: [2, 4]}
    env: {N: "${{ item }}"}
    uses: ./square.yaml
    with: {n: "${{ int(env.N) + index }}"}
`})
	rep := Run(context.Background(), wf, Options{})
	if rep.Status != Succeeded {
		t.Fatalf("run %s: %s", rep.Status, rep.Error)
	}
	got := []any{rep.Step("one").Output, rep.Step("each").Results[0].Output, rep.Step("each").Results[1].Output}
	want := []any{map[string]any{"square": 9}, map[string]any{"square": 4}, map[string]any{"square": 25}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
}
