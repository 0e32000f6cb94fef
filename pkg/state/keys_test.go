package state

import (
	"strconv"
	"testing"
)

// TestKeyIndex: keys are numbered in order of first appearance, found
// again through every growth of the table, and told apart when they
// share prefixes or are empty.
func TestKeyIndex(t *testing.T) {
	x := newKeyIndex()
	keys := []string{"", "a", "ab", "b", "é", "a\x00"}
	for i := range 5000 {
		keys = append(keys, "k"+strconv.Itoa(i))
	}
	for i, k := range keys {
		n, existed, err := x.add(k)
		if err != nil || existed || int(n) != i {
			t.Fatalf("add(%q) = %d, %v, %v; want %d, new", k, n, existed, err, i)
		}
	}
	for i, k := range keys {
		if n, ok := x.lookup(k); !ok || int(n) != i {
			t.Errorf("lookup(%q) = %d, %v; want %d", k, n, ok, i)
		}
		if n, existed, _ := x.add(k); !existed || int(n) != i {
			t.Errorf("add(%q) again = %d, %v; want %d, existing", k, n, existed, i)
		}
		if got := string(x.bytes(i)); got != k {
			t.Errorf("bytes(%d) = %q; want %q", i, got, k)
		}
	}
	for _, k := range []string{"c", "k5000", "a\x00\x00", "k"} {
		if n, ok := x.lookup(k); ok {
			t.Errorf("lookup(%q) = %d; want none", k, n)
		}
	}
	if x.len() != len(keys) {
		t.Errorf("len %d; want %d", x.len(), len(keys))
	}
}
