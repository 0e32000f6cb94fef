//go:build !linux

package proc

import "errors"

// CgroupsAvailable reports why per-step cgroups cannot be used: they are
// Linux-only.
func CgroupsAvailable() error {
	return errors.New("per-step cgroups are Linux-only")
}
