package mp4

import (
	"errors"
	"reflect"
	"testing"
)

// stblMap parses boxes as the children of an stbl.
func stblMap(t *testing.T, boxes ...[]byte) map[string]box {
	t.Helper()
	m, err := children(cat(boxes...), "stbl")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBuildSamples(t *testing.T) {
	stts3 := mkfull("stts", 0, 0, entries(2, be32(2), be32(10), be32(1), be32(20)))
	stsc := mkfull("stsc", 0, 0, entries(2, be32(1), be32(2), be32(1), be32(2), be32(1), be32(1)))
	stco := mkfull("stco", 0, 0, entries(2, be32(100), be32(500)))
	stsz := mkfull("stsz", 0, 0, be32(0), entries(3, be32(5), be32(6), be32(7)))
	want := []Sample{
		{Offset: 100, DTS: 0, Size: 5, Duration: 10, Sync: true},
		{Offset: 105, DTS: 10, Size: 6, Duration: 10},
		{Offset: 500, DTS: 20, Size: 7, Duration: 20, Sync: true},
	}
	stss := mkfull("stss", 0, 0, entries(2, be32(1), be32(3)))
	tests := []struct {
		name  string
		boxes [][]byte
		audio bool
		edit  func([]Sample)
	}{
		{"stsz+stco+stss", [][]byte{stts3, stsc, stco, stsz, stss}, false, nil},
		{"no stss means all sync", [][]byte{stts3, stsc, stco, stsz}, false, func(s []Sample) { s[1].Sync = true }},
		{"audio ignores stss", [][]byte{stts3, stsc, stco, stsz, stss}, true, func(s []Sample) { s[1].Sync = true }},
		{"co64", [][]byte{stts3, stsc, stsz, stss, mkfull("co64", 0, 0, entries(2, be64(100), be64(500)))}, false, nil},
		{"stz2 4-bit", [][]byte{stts3, stsc, stco, stss, mkfull("stz2", 0, 0, []byte{0, 0, 0, 4}, be32(3), []byte{0x56, 0x70})}, false, nil},
		{"stz2 8-bit", [][]byte{stts3, stsc, stco, stss, mkfull("stz2", 0, 0, []byte{0, 0, 0, 8}, be32(3), []byte{5, 6, 7})}, false, nil},
		{"stz2 16-bit", [][]byte{stts3, stsc, stco, stss, mkfull("stz2", 0, 0, []byte{0, 0, 0, 16}, be32(3), be16(5), be16(6), be16(7))}, false, nil},
		{"ctts v1 negative", [][]byte{stts3, stsc, stco, stsz, stss, mkfull("ctts", 1, 0, entries(2, be32(1), be32(20), be32(2), be32(0xFFFFFFF6)))}, false,
			func(s []Sample) { s[0].CTO, s[1].CTO, s[2].CTO = 20, -10, -10 }},
		{"ctts v0", [][]byte{stts3, stsc, stco, stsz, stss, mkfull("ctts", 0, 0, entries(1, be32(3), be32(30)))}, false,
			func(s []Sample) { s[0].CTO, s[1].CTO, s[2].CTO = 30, 30, 30 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := buildSamples(stblMap(t, tc.boxes...), "stbl", 1000, tc.audio)
			if err != nil {
				t.Fatal(err)
			}
			exp := append([]Sample(nil), want...)
			if tc.edit != nil {
				tc.edit(exp)
			}
			if !reflect.DeepEqual(got, exp) {
				t.Fatalf("samples\n got %+v\nwant %+v", got, exp)
			}
		})
	}
}

func TestBuildSamplesConstantSize(t *testing.T) {
	got, err := buildSamples(stblMap(t, simpleTables(4, 10, 1024)...), "stbl", 1000, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[3].Offset != dataStart+30 || got[3].DTS != 3072 || got[3].Size != 10 {
		t.Fatalf("samples %+v", got)
	}
}

func TestBuildSamplesMalformed(t *testing.T) {
	stts := mkfull("stts", 0, 0, entries(1, be32(3), be32(10)))
	stsc := mkfull("stsc", 0, 0, entries(1, be32(1), be32(3), be32(1)))
	stco := mkfull("stco", 0, 0, entries(1, be32(100)))
	stsz := mkfull("stsz", 0, 0, be32(0), entries(3, be32(5), be32(6), be32(7)))
	tests := []struct {
		name  string
		boxes [][]byte
	}{
		{"missing stsz", [][]byte{stts, stsc, stco}},
		{"missing stts", [][]byte{stsz, stsc, stco}},
		{"missing stco", [][]byte{stts, stsz, stsc}},
		{"missing stsc", [][]byte{stts, stsz, stco}},
		{"stts too few", [][]byte{mkfull("stts", 0, 0, entries(1, be32(2), be32(10))), stsz, stsc, stco}},
		{"stts too many", [][]byte{mkfull("stts", 0, 0, entries(1, be32(4), be32(10))), stsz, stsc, stco}},
		{"stts huge count", [][]byte{mkfull("stts", 0, 0, entries(1, be32(0xFFFFFFFF), be32(10))), stsz, stsc, stco}},
		{"stts entry count past box", [][]byte{mkfull("stts", 0, 0, entries(1000000, be32(3), be32(10))), stsz, stsc, stco}},
		{"stsz count past box", [][]byte{stts, mkfull("stsz", 0, 0, be32(0), entries(0x40000000, be32(5))), stsc, stco}},
		{"stsz constant too big for file", [][]byte{stts, mkfull("stsz", 0, 0, be32(1000), be32(3)), stsc, stco}},
		{"stz2 bad field size", [][]byte{stts, mkfull("stz2", 0, 0, []byte{0, 0, 0, 12}, be32(3), make([]byte, 8)), stsc, stco}},
		{"stz2 truncated", [][]byte{stts, mkfull("stz2", 0, 0, []byte{0, 0, 0, 16}, be32(3), make([]byte, 4)), stsc, stco}},
		{"ctts too many", [][]byte{stts, stsz, stsc, stco, mkfull("ctts", 0, 0, entries(1, be32(4), be32(1)))}},
		{"stss zero", [][]byte{stts, stsz, stsc, stco, mkfull("stss", 0, 0, entries(1, be32(0)))}},
		{"stss past end", [][]byte{stts, stsz, stsc, stco, mkfull("stss", 0, 0, entries(1, be32(4)))}},
		{"stsc too few samples", [][]byte{stts, stsz, stco, mkfull("stsc", 0, 0, entries(1, be32(1), be32(2), be32(1)))}},
		{"stsc too many samples", [][]byte{stts, stsz, stco, mkfull("stsc", 0, 0, entries(1, be32(1), be32(4), be32(1)))}},
		{"stsc first chunk 2", [][]byte{stts, stsz, stco, mkfull("stsc", 0, 0, entries(1, be32(2), be32(3), be32(1)))}},
		{"stsc past chunks", [][]byte{stts, stsz, stco, mkfull("stsc", 0, 0, entries(2, be32(1), be32(1), be32(1), be32(5), be32(2), be32(1)))}},
		{"chunk past end of file", [][]byte{stts, stsz, stsc, mkfull("stco", 0, 0, entries(1, be32(990)))}},
		{"co64 past end of file", [][]byte{stts, stsz, stsc, mkfull("co64", 0, 0, entries(1, be64(1<<62)))}},
		{"stco truncated", [][]byte{stts, stsz, stsc, mkfull("stco", 0, 0, entries(2, be32(100)))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := buildSamples(stblMap(t, tc.boxes...), "stbl", 1000, false)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}
