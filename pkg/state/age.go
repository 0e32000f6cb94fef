package state

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseAge reads an age such as "30d", "2w", "12h" or "90m": a whole
// number of days (d) or weeks (w), or a Go duration. It must be positive.
func ParseAge(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	unit := map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour}
	if u, ok := unit[s[max(0, len(s)-1):]]; ok && len(s) > 1 {
		var n int64
		n, err = strconv.ParseInt(strings.TrimSpace(s[:len(s)-1]), 10, 64)
		if err == nil && (n <= 0 || n > int64(1<<62)/int64(u)) {
			err = fmt.Errorf("out of range")
		}
		d = time.Duration(n) * u
	} else {
		d, err = time.ParseDuration(s)
	}
	if err == nil && d <= 0 {
		err = fmt.Errorf("not positive")
	}
	if err != nil {
		return 0, fmt.Errorf("age %q: %v (use e.g. 30d, 2w, 12h)", s, err)
	}
	return d, nil
}
