package p2p

import (
	"encoding/binary"
	"testing"
)

func TestRangeSet(t *testing.T) {
	var s rangeSet
	for _, r := range []Range{{5, 7}, {0, 1}, {3, 3}, {2, 2}, {9, 12}, {8, 8}} {
		s.add(r)
	}
	if len(s) != 2 || s[0] != (Range{0, 3}) || s[1] != (Range{5, 12}) {
		t.Fatalf("merged %v", s)
	}
	s.remove(Range{6, 10})
	if len(s) != 3 || s[1] != (Range{5, 5}) || s[2] != (Range{11, 12}) {
		t.Fatalf("after remove %v", s)
	}
	for seq, want := range map[uint64]bool{0: true, 4: false, 5: true, 6: false, 12: true, 13: false} {
		if s.contains(seq) != want {
			t.Errorf("contains(%d) = %v", seq, !want)
		}
	}
	s.trim(2)
	if len(s) != 2 || s[0] != (Range{5, 5}) {
		t.Fatalf("trim %v", s)
	}
	s.add(Range{0, MaxSeq})
	if len(s) != 1 || s.count() != MaxSeq+1 {
		t.Fatalf("full %v", s)
	}
}

// FuzzRanges applies random add/remove operations to a rangeSet and to a
// model over a small domain and checks they agree and stay canonical.
func FuzzRanges(f *testing.F) {
	f.Add([]byte{0, 1, 5, 1, 2, 3, 0, 0, 63})
	f.Add([]byte{0, 10, 20, 0, 21, 30, 1, 15, 25})
	f.Fuzz(func(t *testing.T, ops []byte) {
		const domain = 64
		var s rangeSet
		var model [domain]bool
		for len(ops) >= 3 {
			op, a, b := ops[0], uint64(ops[1]%domain), uint64(ops[2]%domain)
			ops = ops[3:]
			if a > b {
				a, b = b, a
			}
			if op%2 == 0 {
				s.add(Range{a, b})
			} else {
				s.remove(Range{a, b})
			}
			for i := a; i <= b; i++ {
				model[i] = op%2 == 0
			}
		}
		for i := range uint64(domain) {
			if s.contains(i) != model[i] {
				t.Fatalf("contains(%d) = %v, model %v; set %v", i, s.contains(i), model[i], s)
			}
		}
		for i := 1; i < len(s); i++ {
			if s[i-1][1]+1 >= s[i][0] || s[i][0] > s[i][1] {
				t.Fatalf("not canonical: %v", s)
			}
		}
		// Wire ranges from raw bytes never break validation.
		if len(ops) >= 16 {
			r := Range{binary.LittleEndian.Uint64(ops), binary.LittleEndian.Uint64(ops[8:])}
			_ = validRanges([]Range{r})
		}
	})
}
