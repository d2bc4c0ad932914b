package p2p

import "sort"

// maxPeerRanges bounds the ranges the tracker keeps per peer.
const maxPeerRanges = 64

// rangeSet is a sorted set of disjoint, non-adjacent inclusive ranges: the
// compact form of the segments one peer holds.
type rangeSet []Range

// contains reports whether seq is in the set.
func (s rangeSet) contains(seq uint64) bool {
	i := sort.Search(len(s), func(i int) bool { return s[i][1] >= seq })
	return i < len(s) && s[i][0] <= seq
}

// add inserts r, merging overlapping and adjacent ranges.
func (s *rangeSet) add(r Range) {
	set := *s
	// First range that ends at or after r[0]-1 (could merge).
	lo := sort.Search(len(set), func(i int) bool { return r[0] == 0 || set[i][1] >= r[0]-1 })
	hi := lo
	for hi < len(set) && (r[1] == MaxSeq || set[hi][0] <= r[1]+1) {
		if set[hi][0] < r[0] {
			r[0] = set[hi][0]
		}
		if set[hi][1] > r[1] {
			r[1] = set[hi][1]
		}
		hi++
	}
	switch {
	case hi == lo:
		set = append(set, Range{})
		copy(set[lo+1:], set[lo:])
		set[lo] = r
	default:
		set[lo] = r
		set = append(set[:lo+1], set[hi:]...)
	}
	*s = set
}

// remove deletes r from the set, splitting a range if needed.
func (s *rangeSet) remove(r Range) {
	set := *s
	out := set[:0:0]
	for _, x := range set {
		if x[1] < r[0] || x[0] > r[1] {
			out = append(out, x)
			continue
		}
		if x[0] < r[0] {
			out = append(out, Range{x[0], r[0] - 1})
		}
		if x[1] > r[1] {
			out = append(out, Range{r[1] + 1, x[1]})
		}
	}
	*s = out
}

// trim keeps at most n ranges, forgetting the lowest.
func (s *rangeSet) trim(n int) {
	if len(*s) > n {
		*s = append((*s)[:0:0], (*s)[len(*s)-n:]...)
	}
}

// count returns how many segments the set holds (saturating).
func (s rangeSet) count() uint64 {
	var n uint64
	for _, r := range s {
		n += r[1] - r[0] + 1
	}
	return n
}
