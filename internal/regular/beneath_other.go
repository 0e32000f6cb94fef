//go:build !linux

package regular

import "os"

// openBeneath opens rel inside dir with os.Root, which follows a symlink
// only while it stays inside dir.
func openBeneath(dir, rel string) (*os.File, error) {
	return openRoot(dir, rel)
}
