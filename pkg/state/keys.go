package state

import (
	"errors"
	"hash/maphash"
	"math"
)

// keyIndex numbers a block's keys in the order they first appear (0, 1,
// ...) and finds a key's number. It holds a million keys in a fraction of
// what a map[string]int32 takes: the keys' bytes one after the other in
// one slice, where each ends, and an open-addressing table of numbers —
// about 10 bytes a key besides the key itself, with no allocation per
// key and nothing for the garbage collector to scan.
type keyIndex struct {
	seed  maphash.Seed
	data  []byte   // the keys' bytes, in order
	ends  []uint32 // key i is data[ends[i-1]:ends[i]]
	slots []int32  // key number + 1, or 0 for an empty slot; len is a power of two
}

var errKeyBytes = errors.New("more key bytes than a resume can index (4 GiB)")

func newKeyIndex() *keyIndex { return &keyIndex{seed: maphash.MakeSeed()} }

// len is the number of keys.
func (x *keyIndex) len() int { return len(x.ends) }

// bytes returns key i's bytes (not a copy).
func (x *keyIndex) bytes(i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = x.ends[i-1]
	}
	return x.data[start:x.ends[i]]
}

// lookup returns key's number.
func (x *keyIndex) lookup(key string) (int32, bool) {
	if len(x.slots) == 0 {
		return 0, false
	}
	mask := uint64(len(x.slots) - 1)
	for h := maphash.String(x.seed, key) & mask; ; h = (h + 1) & mask {
		n := x.slots[h]
		if n == 0 {
			return 0, false
		}
		if string(x.bytes(int(n-1))) == key {
			return n - 1, true
		}
	}
}

// add returns key's number, numbering it when it is new.
func (x *keyIndex) add(key string) (n int32, existed bool, err error) {
	if n, ok := x.lookup(key); ok {
		return n, true, nil
	}
	if uint64(len(x.data))+uint64(len(key)) > math.MaxUint32 || len(x.ends) >= math.MaxInt32-1 {
		return 0, false, errKeyBytes
	}
	x.data = append(x.data, key...)
	x.ends = append(x.ends, uint32(len(x.data)))
	n = int32(len(x.ends) - 1)
	if 4*len(x.ends) > 3*len(x.slots) {
		x.grow()
	} else {
		x.place(key, n)
	}
	return n, false, nil
}

// place puts number n of key in the first free slot of its probe.
func (x *keyIndex) place(key string, n int32) {
	mask := uint64(len(x.slots) - 1)
	h := maphash.String(x.seed, key) & mask
	for x.slots[h] != 0 {
		h = (h + 1) & mask
	}
	x.slots[h] = n + 1
}

// grow doubles the table and places every key again, the last added
// included.
func (x *keyIndex) grow() {
	size := max(64, 2*len(x.slots))
	for 4*len(x.ends) > 3*size {
		size *= 2
	}
	x.slots = make([]int32, size)
	for i := range x.ends {
		x.place(string(x.bytes(i)), int32(i))
	}
}
