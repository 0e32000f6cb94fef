package cli

// GraphCmd prints a workflow's DAG as a Mermaid or Graphviz graph.
type GraphCmd struct {
	File   string    `arg:"" name:"file" help:"Workflow file." type:"path"`
	Format string    `help:"Output format: mermaid or dot." enum:"mermaid,dot" default:"mermaid"`
	Paths  pathFlags `embed:""`
}

// Help shows how to render the graph.
func (GraphCmd) Help() string {
	return `Prints the DAG: one node per step (parallel steps show their fan-out,
×N when it is known only at run time), a solid edge for each needs: and a
dashed edge for each dependency inferred from an expression. finally steps
are grouped apart.

Examples:
  flowrun graph workflow.yaml > workflow.mmd
  flowrun graph --format dot workflow.yaml | dot -Tsvg > workflow.svg`
}

// Run prints the graph.
func (c *GraphCmd) Run(e *env) error {
	wf, err := loadChecked(e, c.File, c.Paths)
	if err != nil {
		return err
	}
	return wf.Plan().Graph(e.stdout, c.Format)
}
