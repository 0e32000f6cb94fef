package exec

import (
	"errors"
	"fmt"
	"sync"

	"github.com/flowrun/flowrun/pkg/spec"
)

// matrixItems hands out a matrix's combinations in order, each built as a
// worker asks for it (spec.Expansion): a product of a million is never a
// list in memory. A mutex serialises the iterator; building a combination
// costs far less than running an item.
type matrixItems struct {
	mu    sync.Mutex
	it    *spec.MatrixIter
	n     int
	index int // items handed out
}

// matrixOf evaluates a block's matrix and expands it: its size is checked
// against max_items before any combination is built, and without a key:
// of the block's own two combinations must not share a key.
func matrixOf(b *BoundStep) (source, error) {
	blk := b.step.Parallel
	m := blk.Matrix
	mv, err := m.Eval(b.scope)
	if err != nil {
		return nil, err
	}
	x, err := spec.Expand(mv, blk.MaxItems, blk.Key == nil)
	if err != nil {
		pos := m.Pos
		var me *spec.MatrixError
		if errors.As(err, &me) {
			pos = m.PosOf(me)
		}
		return nil, fmt.Errorf("%s: step %q: %v", pos, b.step.ID, err)
	}
	return &matrixItems{it: x.Iter(), n: x.Len()}, nil
}

func (s *matrixItems) next() (int, any, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.it.Next()
	if !ok {
		return s.index, nil, false, nil
	}
	s.index++
	return s.index - 1, c, true, nil
}

func (s *matrixItems) len() int     { return s.n }
func (s *matrixItems) close() error { return nil }
