package regular

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// openBeneath opens rel inside dir with openat2, so that the kernel
// refuses any step that leaves dir (RESOLVE_BENEATH: "..", absolute
// symlinks, symlinks pointing out) and any /proc magic link. A kernel
// older than 5.6, or a sandbox that forbids openat2, gets os.Root.
func openBeneath(dir, rel string) (*os.File, error) {
	// O_PATH: the directory is only a starting point, so it needs no read
	// permission, as a path walk needs none.
	d, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(d)
	how := unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_NOCTTY,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	for tries := 1; ; tries++ {
		fd, err := unix.Openat2(d, rel, &how)
		switch {
		case err == nil:
			return os.NewFile(uintptr(fd), filepath.Join(dir, rel)), nil
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.EAGAIN) && tries < 8:
			// EAGAIN: a rename raced the lookup, and the kernel asks
			// for a retry rather than risk an escape.
			continue
		case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM):
			return openRoot(dir, rel)
		}
		return nil, &os.PathError{Op: "openat2", Path: rel, Err: err}
	}
}
