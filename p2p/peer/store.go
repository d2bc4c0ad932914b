package peer

import (
	"slices"
	"sort"
	"sync"

	"github.com/classmesh/classmesh/p2p"
)

// entry is one held segment and where it came from.
type entry struct {
	data   []byte
	source string // p2p.SourceHTTP or p2p.SourcePeer
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
func (s *store) ranges() []p2p.Range {
	s.mu.Lock()
	seqs := make([]uint64, 0, len(s.segs))
	for k := range s.segs {
		seqs = append(seqs, k)
	}
	s.mu.Unlock()
	slices.Sort(seqs)
	return toRanges(seqs)
}

func (s *store) bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// toRanges turns sorted distinct numbers into inclusive ranges.
func toRanges(seqs []uint64) []p2p.Range {
	var out []p2p.Range
	for _, q := range seqs {
		if n := len(out); n > 0 && out[n-1][1]+1 == q {
			out[n-1][1] = q
			continue
		}
		out = append(out, p2p.Range{q, q})
	}
	return out
}

// rangeSet is what a neighbor says it holds: sorted, disjoint, merged.
type rangeSet []p2p.Range

// maxNeighborRanges bounds what we keep of a neighbor's announcement.
const maxNeighborRanges = 256

// newRangeSet normalises ranges from a peer: invalid ones are dropped, the
// rest sorted and merged, and at most maxNeighborRanges (the highest) kept.
func newRangeSet(rs []p2p.Range) rangeSet {
	out := make(rangeSet, 0, len(rs))
	for _, r := range rs {
		if r[0] <= r[1] && r[1] <= p2p.MaxSeq {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 && r[0] <= merged[n-1][1]+1 {
			merged[n-1][1] = max(merged[n-1][1], r[1])
			continue
		}
		merged = append(merged, r)
	}
	if len(merged) > maxNeighborRanges {
		merged = merged[len(merged)-maxNeighborRanges:]
	}
	return slices.Clip(merged)
}

func (rs rangeSet) has(seq uint64) bool {
	i := sort.Search(len(rs), func(i int) bool { return rs[i][1] >= seq })
	return i < len(rs) && rs[i][0] <= seq
}
