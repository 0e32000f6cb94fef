// Package all registers every step type built into flowrun. It has no API:
// import it for its side effects.
//
//	import _ "github.com/flowrun/flowrun/pkg/steps/all"
//
// A custom flowrun binary imports it alongside its own step packages; one
// that wants fewer built-ins imports the subpackages of steps it needs
// instead.
package all
