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
// # How expressions reach a field
//
// flowrun decides how the `${{ ... }}` in a configuration field reach the
// step from the field's Go type alone, field by field (an alias written
// into two fields follows each field's rule):
//
//   - Script: each expression becomes a reference to an environment
//     variable (`${FLOWRUN_EXPR_0}`) whose "NAME=value" entry is in
//     Input.Vars (Input.Environ includes it), so a value can never run as
//     code in a shell.
//   - Expression: an expr-lang expression the step evaluates itself
//     (expect.json). flowrun compiles it when the workflow is loaded; each
//     `${{ }}` in it becomes a variable of the expression bound to its
//     value, never expression text. See ExpressionEnver.
//   - anything else: a field that is exactly one `${{ }}` gets the typed
//     value; inside longer text each value becomes text.
//
// Expressions are evaluated before decoding, so apart from Expression
// fields a step sees plain values.
package steps
