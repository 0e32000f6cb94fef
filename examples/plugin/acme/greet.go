// Package acme is an example of a third-party step type: acme.greet,
// which builds a greeting. Importing the package registers it, so a
// flowrun binary that blank-imports it can run workflows that use it:
//
//	steps:
//	  - id: hello
//	    acme.greet: {name: Ada, shout: true}
//
// It uses flowrun's public plugin API (pkg/steps) and nothing else.
package acme

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/flowrun/flowrun/pkg/steps"
)

// Info describes the step type. init registers it in steps.Default;
// tests register it in a registry of their own.
var Info = steps.Info{
	Type:      "acme.greet",
	Doc:       "Greet someone by name; the output is {message: ...}.",
	New:       func() steps.Step { return new(Greet) },
	Shorthand: "name", // `acme.greet: Ada` is short for `acme.greet: {name: Ada}`
}

func init() { steps.Register(Info) }

// Greet is the configuration of an acme.greet step, decoded strictly from
// the workflow: a key that names no field here is an error at its line and
// column.
type Greet struct {
	// Name is who to greet; required.
	Name string `yaml:"name"`
	// Greeting is the word before the name; "hello" when empty.
	Greeting string `yaml:"greeting"`
	// Shout writes the message in capitals.
	Shout bool `yaml:"shout"`
}

// Validate runs when the workflow is checked, and again for each item
// whose configuration holds expressions.
func (g *Greet) Validate() error {
	if strings.TrimSpace(g.Name) == "" {
		return errors.New("name is required")
	}
	return nil
}

// Run builds the greeting. It is called once per item, from many
// goroutines at once, so it does not modify g.
func (g *Greet) Run(ctx context.Context, in *steps.Input) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	greeting := g.Greeting
	if greeting == "" {
		greeting = "hello"
	}
	msg := fmt.Sprintf("%s, %s!", greeting, g.Name)
	if g.Shout {
		msg = strings.ToUpper(msg)
	}
	fmt.Fprintf(in.Log, "greeting %s\n", g.Name)
	return map[string]any{"message": msg}, nil
}

var (
	_ steps.Step      = (*Greet)(nil)
	_ steps.Validator = (*Greet)(nil)
)
