package cli

import (
	"encoding/json"
)

// PlanCmd prints a workflow's DAG in run order without running it.
type PlanCmd struct {
	File   string    `arg:"" name:"file" help:"Workflow file." type:"path"`
	Format string    `help:"Output format: text or json." enum:"text,json" default:"text"`
	Paths  pathFlags `embed:""`
}

// Help shows what a plan holds.
func (PlanCmd) Help() string {
	return `Prints the steps level by level: the steps of one level can run at once.
Each step shows its type, its dependencies (explicit needs: or inferred from
the expressions that read steps.<id>), its if: condition, and for parallel
blocks the workers and the fan-out when it is known without running (a
literal list or a constant range). Nothing runs.

Examples:
  flowrun plan workflow.yaml
  flowrun plan --format json workflow.yaml | jq '.levels | length'`
}

// Run prints the plan.
func (c *PlanCmd) Run(e *env) error {
	wf, err := loadChecked(e, c.File, c.Paths)
	if err != nil {
		return err
	}
	plan := wf.Plan()
	if c.Format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(plan)
	}
	plan.Format(e.stdout)
	return nil
}
