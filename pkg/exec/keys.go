package exec

import (
	"hash/maphash"
	"sync"
)

// keySet remembers the keys of a block's items as they are evaluated, so
// that two items with one key — which a resume, matching results by key,
// would take for one — stop the block. It keeps a 128-bit hash of each
// key (two maphash sums with their own seeds), not the key: a million
// keys of any length take about 30 MB, and two different keys hash alike
// with a probability near 10^-27. Shards keep workers from waiting on one
// lock. Its methods are safe for concurrent use.
type keySet struct {
	seeds  [2]maphash.Seed
	shards [keyShards]struct {
		mu   sync.Mutex
		seen map[[2]uint64]int
	}
}

const keyShards = 32

func newKeySet() *keySet {
	s := &keySet{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
	for i := range s.shards {
		s.shards[i].seen = make(map[[2]uint64]int)
	}
	return s
}

// add records the key of the item at index. When an item had that key
// already, it returns that item's index and true instead.
func (s *keySet) add(key string, index int) (int, bool) {
	h := [2]uint64{maphash.String(s.seeds[0], key), maphash.String(s.seeds[1], key)}
	sh := &s.shards[h[0]%keyShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if first, dup := sh.seen[h]; dup {
		return first, true
	}
	sh.seen[h] = index
	return 0, false
}
