// Package spec loads flowrun workflow files: it decodes format v1 with the
// position of every node, checks it, compiles every expression, and builds
// the DAG of steps.
//
// Every problem is a Diagnostic with a file, line and column; Load collects
// all of them in one pass instead of stopping at the first, so that
// `flowrun validate` reports a file's mistakes at once.
//
// What Load produces is what running needs: per step, a configuration
// whose expressions are compiled and whose way into each field is decided
// once, by the field's Go type (reachOf): text or a typed value, a shell
// environment variable for a steps.Script, a bound variable for a
// steps.Expression. The decision is keyed by the field's config path, not
// by the YAML node, so a YAML alias cannot carry one field's rule into
// another. A configuration without expressions is decoded and validated at
// load and reused by every run (Step.Decode). At run time expressions read
// a Scope: inputs, env, steps.<id> and run, plain data that can be sent as
// JSON.
package spec
