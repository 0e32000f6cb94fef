package proc

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

func TestAlive(t *testing.T) {
	if !Alive(os.Getpid()) {
		t.Error("Alive(self) = false")
	}
	cmd := exec.Command("sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if !Alive(pid) || !GroupAlive(pid) {
		t.Errorf("running sleep: Alive %v, GroupAlive %v; want both true", Alive(pid), GroupAlive(pid))
	}
	_ = cmd.Process.Kill()
	// Killed but not yet reaped: a zombie, which counts as ended.
	for Alive(pid) {
		time.Sleep(time.Millisecond)
	}
	if GroupAlive(pid) {
		t.Error("GroupAlive of a group whose only process is a zombie = true")
	}
	_ = cmd.Wait()
	if Alive(pid) || GroupAlive(pid) {
		t.Error("a reaped process still counts as alive")
	}
}
