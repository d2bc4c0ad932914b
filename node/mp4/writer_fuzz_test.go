package mp4

import (
	"encoding/binary"
	"testing"
)

// FuzzAppendSegmentHeader builds segments from arbitrary sample tables and
// checks that the predicted size is exact, the boxes are consistent and the
// trun decodes back to the samples. Each 9 bytes of input make one sample:
// size (2), duration (2), composition offset (4, signed), flags (1).
func FuzzAppendSegmentHeader(f *testing.F) {
	f.Add(uint8(1), int64(0), int64(0), []byte{})
	f.Add(uint8(1), int64(512), int64(90000), []byte{
		0x10, 0, 2, 0, 0, 0, 4, 0, 1,
		0x01, 0, 2, 0, 0xFF, 0xFF, 0xFE, 0, 0,
		0x01, 0, 2, 0, 0, 0, 2, 0, 0,
	})
	f.Add(uint8(2), int64(2112), int64(0), []byte{
		1, 0, 4, 0, 0, 0, 0, 0, 1, 1, 1, 4, 0, 0, 0, 0, 0, 1,
	})
	f.Add(uint8(1), int64(-7), int64(-5), []byte{0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF, 1})
	f.Fuzz(func(t *testing.T, kind uint8, editOffset, dts int64, raw []byte) {
		tr := &Track{ID: 3, Kind: TrackKind(kind%2 + 1), Timescale: 90000, EditOffset: editOffset}
		var samples []Sample
		for ; len(raw) >= 9; raw = raw[9:] {
			samples = append(samples, Sample{
				DTS:      dts,
				Size:     uint32(binary.BigEndian.Uint16(raw)),
				Duration: uint32(binary.BigEndian.Uint16(raw[2:])),
				CTO:      int32(binary.BigEndian.Uint32(raw[4:])),
				Sync:     raw[8]&1 != 0,
			})
		}
		got := AppendSegmentHeader(nil, 42, tr, samples)
		if n := SegmentHeaderSize(tr, samples); n != len(got) {
			t.Fatalf("SegmentHeaderSize %d, header %d bytes", n, len(got))
		}
		payload := 0
		for _, s := range samples {
			payload += int(s.Size)
		}
		wtCheckBoxes(t, got, len(got)+payload)
		seg := wtParseSegment(t, got)
		if len(seg.samples) != len(samples) || seg.seq != 42 || seg.trackID != 3 {
			t.Fatalf("decoded %d samples seq %d track %d", len(seg.samples), seg.seq, seg.trackID)
		}
		if seg.dataOffset != len(got)-seg.moofStart {
			t.Fatalf("data_offset %d, want %d", seg.dataOffset, len(got)-seg.moofStart)
		}
		wtFuzzCompare(t, tr, samples, seg)
	})
}

func wtFuzzCompare(t *testing.T, tr *Track, samples []Sample, seg wtSegment) {
	t.Helper()
	if len(samples) > 0 && seg.baseTime != uint64(max(samples[0].DTS, 0)) {
		t.Fatalf("tfdt %d for DTS %d", seg.baseTime, samples[0].DTS)
	}
	var shift int64
	if tr.Kind == KindVideo {
		shift = tr.EditOffset
	}
	for i, s := range samples {
		want := wtSample{s.Duration, s.Size, wCTO(&s, shift), s.Sync}
		if seg.samples[i] != want {
			t.Fatalf("sample %d: %+v, want %+v", i, seg.samples[i], want)
		}
		if v := int64(s.CTO) - shift; v >= -1<<31 && v < 1<<31 && int64(want.cto) != v {
			t.Fatalf("sample %d: CTO %d not shifted by %d", i, want.cto, shift)
		}
	}
}
