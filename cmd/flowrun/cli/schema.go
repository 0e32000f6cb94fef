package cli

import (
	"github.com/flowrun/flowrun/pkg/steps"
	"github.com/flowrun/flowrun/schema"
)

// SchemaCmd prints the JSON schema of workflow files.
type SchemaCmd struct{}

// Help says what to do with the schema.
func (SchemaCmd) Help() string {
	return `Prints the JSON schema (draft-07) of workflow files, covering format
version 1 and the configuration of every step type this flowrun knows: a
custom flowrun binary includes its own step types. Point an editor at it
with a first line such as

  # yaml-language-server: $schema=./workflow.schema.json

Examples:
  flowrun schema > workflow.schema.json`
}

// Run prints the schema generated from the step types registered in this
// binary.
func (SchemaCmd) Run(e *env) error {
	b, err := schema.Generate(steps.Default)
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(b)
	return err
}
