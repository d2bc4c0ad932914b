package wire

import (
	"encoding/binary"
	"reflect"
	"testing"
)

func TestRangeSet(t *testing.T) {
	var s RangeSet
	for _, r := range []Range{{5, 7}, {0, 1}, {3, 3}, {2, 2}, {9, 12}, {8, 8}} {
		s.Add(r)
	}
	if len(s) != 2 || s[0] != (Range{0, 3}) || s[1] != (Range{5, 12}) {
		t.Fatalf("merged %v", s)
	}
	s.Remove(Range{6, 10})
	if len(s) != 3 || s[1] != (Range{5, 5}) || s[2] != (Range{11, 12}) {
		t.Fatalf("after remove %v", s)
	}
	for seq, want := range map[uint64]bool{0: true, 4: false, 5: true, 6: false, 12: true, 13: false} {
		if s.Contains(seq) != want {
			t.Errorf("Contains(%d) = %v", seq, !want)
		}
	}
	s.Trim(2)
	if len(s) != 2 || s[0] != (Range{5, 5}) {
		t.Fatalf("trim %v", s)
	}
	s.Add(Range{0, MaxSeq})
	if len(s) != 1 || s.Count() != MaxSeq+1 {
		t.Fatalf("full %v", s)
	}
}

func TestNewRangeSet(t *testing.T) {
	const limit = 256
	rs := NewRangeSet([]Range{{10, 12}, {0, 3}, {4, 5}, {7, 7}, {9, 2}, {11, 20}}, limit)
	if want := (RangeSet{{0, 5}, {7, 7}, {10, 20}}); !reflect.DeepEqual(rs, want) {
		t.Fatalf("got %v want %v", rs, want)
	}
	for seq, want := range map[uint64]bool{0: true, 5: true, 6: false, 7: true, 8: false, 15: true, 21: false} {
		if rs.Contains(seq) != want {
			t.Errorf("Contains(%d) = %v", seq, !want)
		}
	}
	var many []Range
	for i := uint64(0); i < 1000; i++ {
		many = append(many, Range{2 * i, 2 * i})
	}
	if got := NewRangeSet(many, limit); len(got) != limit || got[len(got)-1] != (Range{1998, 1998}) {
		t.Fatalf("bounded set: %d ranges, last %v", len(got), got[len(got)-1])
	}
	if got := NewRangeSet([]Range{{1, MaxSeq + 1}}, limit); len(got) != 0 || got == nil {
		t.Fatalf("invalid range kept: %#v", got)
	}
	if got := RangesOf([]uint64{1, 2, 3, 5, 7, 8}); !reflect.DeepEqual(got, []Range{{1, 3}, {5, 5}, {7, 8}}) {
		t.Fatalf("RangesOf %v", got)
	}
}

// FuzzRanges applies random add/remove operations to a RangeSet and to a
// model over a small domain and checks they agree and stay canonical.
func FuzzRanges(f *testing.F) {
	f.Add([]byte{0, 1, 5, 1, 2, 3, 0, 0, 63})
	f.Add([]byte{0, 10, 20, 0, 21, 30, 1, 15, 25})
	f.Fuzz(func(t *testing.T, ops []byte) {
		const domain = 64
		var s RangeSet
		var model [domain]bool
		var added []Range
		for len(ops) >= 3 {
			op, a, b := ops[0], uint64(ops[1]%domain), uint64(ops[2]%domain)
			ops = ops[3:]
			if a > b {
				a, b = b, a
			}
			if op%2 == 0 {
				s.Add(Range{a, b})
				added = append(added, Range{a, b})
			} else {
				s.Remove(Range{a, b})
			}
			for i := a; i <= b; i++ {
				model[i] = op%2 == 0
			}
		}
		for i := range uint64(domain) {
			if s.Contains(i) != model[i] {
				t.Fatalf("Contains(%d) = %v, model %v; set %v", i, s.Contains(i), model[i], s)
			}
		}
		canonical := func(s RangeSet) {
			for i := 1; i < len(s); i++ {
				if s[i-1][1]+1 >= s[i][0] || s[i][0] > s[i][1] {
					t.Fatalf("not canonical: %v", s)
				}
			}
		}
		canonical(s)
		// NewRangeSet of the added ranges is the union Add built (before
		// any removal it equals s).
		n := NewRangeSet(added, domain)
		canonical(n)
		var union RangeSet
		for _, r := range added {
			union.Add(r)
		}
		if len(n) != len(union) || (len(n) > 0 && !reflect.DeepEqual(n, union)) {
			t.Fatalf("NewRangeSet %v, Add %v", n, union)
		}
		// Wire ranges from raw bytes never break validation.
		if len(ops) >= 16 {
			r := Range{binary.LittleEndian.Uint64(ops), binary.LittleEndian.Uint64(ops[8:])}
			_ = validRanges([]Range{r})
		}
	})
}
