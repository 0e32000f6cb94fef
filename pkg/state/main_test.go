package state

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine (a journal's commit loop) outlives the
// tests. Run with FLOWRUN_TEST_HOLD_LOCK=DIR, the test binary instead takes
// the lock of the run folder DIR, says so on stdout and waits to be killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv("FLOWRUN_TEST_HOLD_LOCK"); dir != "" {
		if _, err := lockRun(dir); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		time.Sleep(time.Hour)
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}
