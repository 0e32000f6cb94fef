package exec

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"github.com/flowrun/flowrun/pkg/spec"
)

// keyLimit is one limit: its max and the items running per key value.
type keyLimit struct {
	spec *spec.Limit
	max  int
	// live holds the key values of the items taken from the source, held
	// or running, and up to maxIdle values no such item has any more
	// (idle): those are dropped all at once past that, so memory follows
	// the items in flight, not the values ever seen, and a value that
	// comes and goes is not dropped and made again for every item.
	live      map[string]*keyCount
	idle      int
	idleBytes int
	peak      int
	held      int
	top       []topKey // the busiest dropped values, see retire
	spare     []*keyCount
}

// maxIdle and maxIdleBytes bound the idle values a limit keeps counted.
const (
	maxIdle      = 4096
	maxIdleBytes = 1 << 20
)

// topKey is a value among the busiest: id is the value, or for a long
// one its first maxKeyShown bytes and its SHA-256 (longer than any short
// value, so the two never meet), so that the list holds no long value;
// shown is the value as the summary shows it, cut at maxKeyShown bytes.
type topKey struct {
	id, shown string
	peak      int
}

const maxKeyShown = 256

func topID(v string) string {
	if len(v) <= maxKeyShown {
		return v
	}
	sum := sha256.Sum256([]byte(v))
	return v[:maxKeyShown] + hex.EncodeToString(sum[:])
}

func shownKey(v string) string {
	if len(v) <= maxKeyShown {
		return v
	}
	cut := maxKeyShown
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…"
}

type keyCount struct {
	key string
	// running items have this value; refs counts them and the held ones.
	running, refs int
	peak          int
}

// ref returns the count of key value v, counting one more reference.
func (k *keyLimit) ref(v string) *keyCount {
	c, ok := k.live[v]
	if ok && c.refs == 0 {
		k.idle--
		k.idleBytes -= len(v)
	}
	if !ok {
		if n := len(k.spare); n > 0 {
			c, k.spare = k.spare[n-1], k.spare[:n-1]
		} else {
			c = new(keyCount)
		}
		*c = keyCount{key: v}
		// A value that comes back keeps the peak it reached before.
		if len(k.top) > 0 {
			id := topID(v)
			for _, t := range k.top {
				if t.id == id {
					c.peak = t.peak
					break
				}
			}
		}
		k.live[v] = c
	}
	c.refs++
	return c
}

// unref drops a reference to c; past maxIdle values that no item has,
// it drops them all.
func (k *keyLimit) unref(c *keyCount) {
	if c.refs--; c.refs > 0 {
		return
	}
	k.idle++
	if k.idleBytes += len(c.key); k.idle <= maxIdle && k.idleBytes <= maxIdleBytes {
		return
	}
	for v, c := range k.live {
		if c.refs == 0 {
			delete(k.live, v)
			k.retire(c)
			*c = keyCount{}
			k.spare = append(k.spare, c)
		}
	}
	k.idle, k.idleBytes = 0, 0
}

// retire keeps the peak of a value no item has any more if it is among
// the MaxKeysListed highest. A value stays listed once it is (its entry
// is updated if it comes back), and one is dropped only for a higher
// peak, so the lowest listed peak never falls: a dropped value that comes
// back can be listed again only with a peak above its old one, and every
// peak listed is the value's highest.
func (k *keyLimit) retire(c *keyCount) {
	id := topID(c.key)
	lowest := -1
	for i, t := range k.top {
		if t.id == id {
			k.top[i].peak = max(t.peak, c.peak)
			return
		}
		if lowest < 0 || t.peak < k.top[lowest].peak {
			lowest = i
		}
	}
	// The list keeps copies: a value may be a slice of a long item.
	switch {
	case len(k.top) < spec.MaxKeysListed:
		k.top = append(k.top, topKey{strings.Clone(id), strings.Clone(shownKey(c.key)), c.peak})
	case c.peak > k.top[lowest].peak:
		k.top[lowest] = topKey{strings.Clone(id), strings.Clone(shownKey(c.key)), c.peak}
	}
}
