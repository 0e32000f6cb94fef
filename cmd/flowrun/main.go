// Command flowrun runs declarative pipelines written as YAML workflow files.
//
// A custom flowrun with extra step types is a main package like this one
// that also blank-imports the packages registering them.
package main

import (
	"github.com/flowrun/flowrun/cmd/flowrun/cli"
	_ "github.com/flowrun/flowrun/pkg/steps/all"
)

func main() { cli.Main() }
