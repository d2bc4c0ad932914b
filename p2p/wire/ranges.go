package wire

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// Range is an inclusive range of segment numbers, [a,b] on the wire.
type Range [2]uint64

// UnmarshalJSON accepts exactly two unsigned integers.
func (r *Range) UnmarshalJSON(b []byte) error {
	var v []uint64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if len(v) != 2 {
		return fmt.Errorf("range has %d elements, want 2", len(v))
	}
	r[0], r[1] = v[0], v[1]
	return nil
}

// Valid reports whether r is a range PROTOCOL.md allows: a ≤ b ≤ MaxSeq.
func (r Range) Valid() bool { return r[0] <= r[1] && r[1] <= MaxSeq }

func validRanges(rs []Range) error {
	if len(rs) > MaxRanges {
		return fmt.Errorf("%d ranges, at most %d", len(rs), MaxRanges)
	}
	for _, r := range rs {
		if !r.Valid() {
			return fmt.Errorf("invalid range [%d,%d]", r[0], r[1])
		}
	}
	return nil
}

// RangeSet is a set of segment numbers in canonical form: sorted,
// disjoint, non-adjacent valid ranges. The tracker keeps one per peer (from
// have and lost), the Go peer one per neighbor (from the peer-plane have).
// The zero value is the empty set. Not safe for concurrent use.
type RangeSet []Range

// NewRangeSet normalises ranges from an untrusted peer: invalid ranges are
// dropped, the rest sorted and merged, and at most limit (the highest) kept.
func NewRangeSet(rs []Range, limit int) RangeSet {
	out := make(RangeSet, 0, len(rs))
	for _, r := range rs {
		if r.Valid() {
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
	merged.Trim(limit)
	return slices.Clip(merged)
}

// RangesOf turns sorted distinct segment numbers into inclusive ranges.
func RangesOf(seqs []uint64) []Range {
	var out []Range
	for _, q := range seqs {
		if n := len(out); n > 0 && out[n-1][1]+1 == q {
			out[n-1][1] = q
			continue
		}
		out = append(out, Range{q, q})
	}
	return out
}

// Contains reports whether seq is in the set.
func (s RangeSet) Contains(seq uint64) bool {
	i := sort.Search(len(s), func(i int) bool { return s[i][1] >= seq })
	return i < len(s) && s[i][0] <= seq
}

// Add inserts a valid range r, merging overlapping and adjacent ranges.
func (s *RangeSet) Add(r Range) {
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

// Remove deletes r from the set, splitting a range if needed.
func (s *RangeSet) Remove(r Range) {
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

// Trim keeps at most n ranges, forgetting the lowest.
func (s *RangeSet) Trim(n int) {
	if len(*s) > n {
		*s = append((*s)[:0:0], (*s)[len(*s)-n:]...)
	}
}

// Count returns how many segments the set holds (saturating).
func (s RangeSet) Count() uint64 {
	var n uint64
	for _, r := range s {
		n += r[1] - r[0] + 1
	}
	return n
}
