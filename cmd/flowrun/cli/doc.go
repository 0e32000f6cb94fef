// Package cli is flowrun's command line: one file per subcommand, parsed
// with kong. It is a package rather than part of package main so that a
// custom flowrun binary with its own step types can reuse it whole.
package cli
