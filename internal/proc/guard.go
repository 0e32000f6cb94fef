//go:build unix

package proc

import (
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
)

// The guard is a small shell process, one per flowrun process, that kills
// what flowrun started when flowrun ends — normally, or by SIGKILL, when
// nothing inside flowrun runs any more. It reads its stdin, a pipe whose
// write end only flowrun holds (close-on-exec), and acts at EOF:
//
//   - it SIGKILLs the process groups flowrun registered and has not
//     released (GuardGroup), the steps' groups when there are no cgroups;
//   - it kills everything in the cgroup directory $0, when flowrun has one,
//     and removes it.
//
// Registering costs one write(2) of a few bytes, atomic on a pipe.
const guardScript = `trap '' HUP INT PIPE
g=" "
while read -r op pg; do
	case $op in
	+) g="$g$pg " ;;
	-) case $g in *" $pg "*) g="${g%% $pg *} ${g#* $pg }" ;; esac ;;
	esac
done
for pg in $g; do kill -s KILL -- "-$pg" 2>/dev/null; done
[ -n "$0" ] && [ -d "$0" ] || exit 0
echo 1 > "$0/cgroup.kill"
i=0
while grep -q '^populated 1' "$0/cgroup.events" && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
find "$0" -depth -type d -exec rmdir {} + 2>/dev/null
`

var guard struct {
	once sync.Once
	dir  string   // the cgroup directory it removes, if any
	pipe *os.File // never closed: the guard reads EOF when this process is gone
	err  error
}

// startGuard starts the guard, once; dir is the cgroup directory it
// removes, or "" for none. It is not a child to wait for: it outlives this
// process by design, in its own process group so that a terminal's ^C
// does not stop it.
func startGuard(dir string) error {
	guard.once.Do(func() {
		r, w, err := os.Pipe()
		if err != nil {
			guard.err = err
			return
		}
		defer r.Close()
		cmd := exec.Command("/bin/sh", "-c", guardScript, dir)
		cmd.Stdin = r
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			w.Close()
			guard.err = err
			return
		}
		guard.pipe, guard.dir = w, dir
	})
	return guard.err
}

// GuardGroup asks the guard to SIGKILL process group pgid if this process
// ends before ReleaseGroup(pgid). It reports whether the guard took it.
func GuardGroup(pgid int) bool {
	return startGuard("") == nil && guardWrite('+', pgid)
}

// ReleaseGroup tells the guard that group pgid is gone.
func ReleaseGroup(pgid int) {
	if guard.pipe != nil {
		guardWrite('-', pgid)
	}
}

func guardWrite(op byte, pgid int) bool {
	b := strconv.AppendInt([]byte{op, ' '}, int64(pgid), 10)
	_, err := guard.pipe.Write(append(b, '\n'))
	return err == nil
}
