package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// VersionCmd prints the module version and the commit it was built from.
type VersionCmd struct{}

// Version returns flowrun's version: the module version when installed
// with `go install`, else "devel", with the VCS revision when known.
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			if len(s.Value) > 12 {
				s.Value = s.Value[:12]
			}
			v += " " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				v += "-dirty"
			}
		}
	}
	return v
}

// Help shows an example.
func (VersionCmd) Help() string {
	return `Prints the module version (or "devel" for a build from a checkout), the
commit it was built from ("-dirty" when the tree had changes), the
platform and the Go version.

Examples:
  flowrun version    # flowrun v1.2.0 3f2a1b9c0d4e linux/amd64 go1.26.8`
}

// Run prints the version.
func (VersionCmd) Run(e *env) error {
	fmt.Fprintf(e.stdout, "flowrun %s %s/%s %s\n", Version(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	return nil
}
