package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/flowrun/flowrun/pkg/steps"
)

// StepsCmd lists the step types this flowrun binary knows.
type StepsCmd struct {
	Format string `help:"Output format: text or json." enum:"text,json" default:"text"`

	// registry is the registry listed; nil means steps.Default.
	registry *steps.Registry
}

// Help explains where step types come from.
func (StepsCmd) Help() string {
	return `Lists every registered step type, sorted, with its one-line description,
its shorthand (the field a scalar or list fills, as in "sleep: 50ms") and
its configuration fields. A custom flowrun binary lists its own types too.

Examples:
  flowrun steps
  flowrun steps --format json | jq '.[].type'`
}

// stepDoc is the stable shape of --format json, one per step type.
type stepDoc struct {
	Type      string        `json:"type"`
	Doc       string        `json:"doc"`
	Shorthand string        `json:"shorthand,omitempty"`
	Fields    []steps.Field `json:"fields"`
}

// usesDoc describes uses:, which every flowrun binary has.
var usesDoc = stepDoc{
	Type:      "uses",
	Doc:       "Runs another workflow file as a step; with: sets its inputs, its outputs become this step's output.",
	Shorthand: "uses",
	Fields:    []steps.Field{{Name: "uses", Type: "string"}, {Name: "with", Type: "mapping"}},
}

// Run prints the step types.
func (c *StepsCmd) Run(e *env) error {
	reg := c.registry
	if reg == nil {
		reg = steps.Default
	}
	// uses: is part of the format, not a registered type, but an author
	// looking for what a step can do needs it in the same list.
	docs := []stepDoc{usesDoc}
	for _, info := range reg.List() {
		fields := info.Fields()
		if fields == nil {
			fields = []steps.Field{}
		}
		docs = append(docs, stepDoc{Type: info.Type, Doc: info.Doc, Shorthand: info.Shorthand, Fields: fields})
	}
	slices.SortStableFunc(docs, func(a, b stepDoc) int { return strings.Compare(a.Type, b.Type) })
	if c.Format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(docs)
	}
	for i, d := range docs {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintf(e.stdout, "%s\n", d.Type)
		if d.Doc != "" {
			fmt.Fprintf(e.stdout, "    %s\n", d.Doc)
		}
		if d.Shorthand != "" {
			fmt.Fprintf(e.stdout, "    shorthand: %s: <%s>\n", d.Type, d.Shorthand)
		}
		if len(d.Fields) == 0 {
			fmt.Fprintf(e.stdout, "    fields: any keys\n")
			continue
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		for _, f := range d.Fields {
			fmt.Fprintf(tw, "    %s\t%s\n", f.Name, f.Type)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}
