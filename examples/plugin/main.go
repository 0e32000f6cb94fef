// Command plugin is a complete custom flowrun: the stock command plus the
// acme.greet step type. Everything flowrun does, it does; `flowrun steps`
// lists acme.greet beside the built-in types.
//
// A custom flowrun is this file: a main package that blank-imports the
// packages whose init functions register step types, then hands over to
// the stock command line. Build it with
//
//	go build -o flowrun-acme ./examples/plugin
//	./flowrun-acme apply examples/plugin/greet.yaml
package main

import (
	"github.com/flowrun/flowrun/cmd/flowrun/cli"
	_ "github.com/flowrun/flowrun/examples/plugin/acme"
	_ "github.com/flowrun/flowrun/pkg/steps/all"
)

func main() { cli.Main() }
