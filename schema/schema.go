// Package schema holds the JSON schema of flowrun workflow files
// (draft-07, as YAML language servers read it) and builds it from the
// format's key lists in pkg/spec and the registered step types.
package schema

import _ "embed"

//go:generate go test -run TestSchemaUpToDate -update

// JSON is the committed workflow.schema.json, for flowrun's built-in step
// types. A test fails when it differs from what Generate builds.
//
//go:embed workflow.schema.json
var JSON []byte
