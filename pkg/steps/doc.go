// Package steps is flowrun's plugin interface: the Step a workflow runs and
// the registry that maps a step type's name to its constructor.
//
// It depends on the standard library only, so a package that adds a step
// type pulls in nothing heavy. Built-in step types live in subpackages
// (shell, http, basic) and register themselves in init through exactly the
// API documented here.
//
// # Lifecycle of a step type
//
//  1. Registration. A package calls Register(Info{Type, New, ...}) from init.
//     A duplicate name panics; New must have no side effects.
//  2. Decoding. For every step of that type, flowrun calls New and decodes
//     the step's configuration (the value under the type's key) into the
//     returned value, strictly: a key that matches no field is an error at
//     the key's line and column. Fields are named by `yaml:"name"` tags.
//     A scalar or list written in place of a mapping fills the field named by
//     Info.Shorthand (`run: echo hi` fills Script).
//  3. Validation. If the value implements Validator, Validate is called once
//     the configuration is known, when the file is validated, and again
//     after expressions are evaluated for each item.
//  4. Running. Run(ctx, in) is called once per item (once for a step that is
//     not a parallel block), possibly from many goroutines at once; each item
//     gets its own decoded value when the configuration holds expressions
//     that depend on the item, and they share one otherwise, so Run must not
//     mutate the receiver. Run must return promptly once ctx is done.
//  5. Cleanup. If the value implements Cleaner, Cleanup is called once after
//     every item of the step has finished.
//
// Expressions (`${{ ... }}`) are evaluated by flowrun before decoding, so a
// step sees plain values. A field of type Script is different: expressions
// inside it are never pasted into the text; each becomes a reference to an
// environment variable (`${FLOWRUN_EXPR_0}`) whose value is in Input.Env, so
// a value can never run as code in a shell.
package steps
