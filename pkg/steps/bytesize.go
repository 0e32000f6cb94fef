package steps

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ByteSize is a number of bytes, written in a workflow as a plain number
// (1048576) or with a unit: B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB
// (powers of 1024), as in `max_body: 512KiB`.
type ByteSize int64

var units = []struct {
	suffix string
	n      float64
}{
	// Longest suffixes first, so "KiB" is not read as "B".
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
	{"B", 1},
}

// UnmarshalText parses a size such as "10MiB", "1.5 MB" or "4096".
func (b *ByteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	mult := 1.0
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(num), u.n
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	n := f * mult
	if err != nil || math.IsNaN(n) || n != math.Trunc(n) || math.Abs(n) >= math.MaxInt64 {
		return fmt.Errorf("invalid size %q: want a whole number of bytes, optionally with a unit (B, KB, MB, GB, KiB, MiB, GiB)", text)
	}
	*b = ByteSize(n)
	return nil
}

// String formats the size with the largest binary unit that divides it
// exactly: "10MiB", "1500B".
func (b ByteSize) String() string {
	for _, u := range []struct {
		suffix string
		n      ByteSize
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b != 0 && b%u.n == 0 {
			return strconv.FormatInt(int64(b/u.n), 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}
