// Package spec loads flowrun workflow files: it decodes format v1 with the
// position of every node, checks it, compiles every expression, and builds
// the DAG of steps.
//
// Every problem is a Diagnostic with a file, line and column; Load collects
// all of them in one pass instead of stopping at the first, so that
// `flowrun validate` reports a file's mistakes at once.
package spec
