package peer

import (
	"slices"
	"sync"

	"github.com/classmesh/classmesh/p2p/wire"
)

// entry is one held segment and where it came from.
type entry struct {
	data   []byte
	source string // wire.SourceHTTP or wire.SourcePeer
	peer   string
}

// store holds verified segments within a byte budget, evicting the lowest
// segment numbers first (they are the furthest behind the playhead).
type store struct {
	limit int64

	mu   sync.Mutex
	used int64
	segs map[uint64]entry
}

func newStore(limit int64) *store {
	return &store{limit: limit, segs: make(map[uint64]entry)}
}

func (s *store) get(seq uint64) (entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.segs[seq]
	return e, ok
}

// put adds a segment and returns the segment numbers evicted to make room.
// stored is false when the segment alone exceeds the budget or was lower
// than everything else in a full store.
func (s *store) put(seq uint64, e entry) (evicted []uint64, stored bool) {
	n := int64(len(e.data))
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.segs[seq]; ok {
		return nil, true
	}
	if n > s.limit {
		return nil, false
	}
	for s.used+n > s.limit {
		low := s.lowest()
		if low > seq {
			return evicted, false
		}
		s.used -= int64(len(s.segs[low].data))
		delete(s.segs, low)
		evicted = append(evicted, low)
	}
	s.segs[seq] = e
	s.used += n
	return evicted, true
}

func (s *store) lowest() uint64 {
	first := true
	var low uint64
	for k := range s.segs {
		if first || k < low {
			low, first = k, false
		}
	}
	return low
}

// ranges returns the held segments as sorted inclusive ranges.
func (s *store) ranges() []wire.Range {
	s.mu.Lock()
	seqs := make([]uint64, 0, len(s.segs))
	for k := range s.segs {
		seqs = append(seqs, k)
	}
	s.mu.Unlock()
	slices.Sort(seqs)
	return wire.RangesOf(seqs)
}

func (s *store) bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// maxNeighborRanges bounds what we keep of a neighbor's announcement.
const maxNeighborRanges = 256
