package rtmp

import (
	"slices"
	"testing"
)

func TestTimestampExtension(t *testing.T) {
	cases := []struct {
		name string
		in   []uint32
		want []int64
	}{
		{"plain", []uint32{0, 40, 80}, []int64{0, 40, 80}},
		{"starts late", []uint32{5000, 5040}, []int64{5000, 5040}},
		{"rollover", []uint32{0xFFFFFFC0, 0xFFFFFFE8, 0x10, 0x38}, []int64{0xFFFFFFC0, 0xFFFFFFE8, 0x100000010, 0x100000038}},
		{"two rollovers", []uint32{0xFFFFFFF0, 0x10, 0x80000000, 0xFFFFFFF0, 0x10},
			[]int64{0xFFFFFFF0, 0x100000010, 0x180000000, 0x1FFFFFFF0, 0x200000010}},
		{"small step back", []uint32{1000, 990, 1020}, []int64{1000, 990, 1020}},
		{"step back across rollover", []uint32{0x10, 0xFFFFFFF0, 0x20}, []int64{0x10, -0x10, 0x20}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var e tsExtender
			var got []int64
			for _, v := range tc.in {
				got = append(got, e.extend(v))
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %#x, want %#x", got, tc.want)
			}
		})
	}
}

// TestTimestampRolloverThroughChunks drives the rollover through the
// chunk layer's 32-bit delta arithmetic.
func TestTimestampRolloverThroughChunks(t *testing.T) {
	var e tsExtender
	ts := uint32(0xFFFFFF00)
	prev := e.extend(ts)
	for range 20 {
		ts += 40 // wraps like a type 2 delta does
		got := e.extend(ts)
		if got != prev+40 {
			t.Fatalf("got %d after %d", got, prev)
		}
		prev = got
	}
	if prev <= 0xFFFFFFFF {
		t.Fatalf("never crossed the rollover: %d", prev)
	}
}
