package mp4

import (
	"bytes"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// The golden files are rewritten with `go test ./node/mp4 -run Golden -update`.
// The flag is registered only if another test file of the package has not
// already registered it, so several golden tests can share it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata")
	}
}

func wtUpdate() bool {
	f := flag.Lookup("update")
	if f == nil {
		return false
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return false
	}
	v, _ := g.Get().(bool)
	return v
}

// wtGolden compares got with testdata/name, or rewrites it with -update.
func wtGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if wtUpdate() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: output differs from the golden file (%d bytes, want %d)", name, len(got), len(want))
	}
}

// wtVideoTrack is a 25 fps track at timescale 12800 with one GOP coded
// I0 P3 B1 B2 P6 B4 B5 P9 B7 B8, a one-frame composition delay and an edit
// list hiding it.
func wtVideoTrack() *Track {
	t := &Track{
		ID: 1, Kind: KindVideo, Timescale: 12800, Language: "und",
		Format: "avc1", SampleEntry: wtAVC1(), Codec: "avc1.64000D",
		Width: 320, Height: 180, EditOffset: 512,
	}
	ctos := []int32{512, 1536, 0, 0, 1536, 0, 0, 1536, 0, 0}
	var off int64 = 48
	for i, c := range ctos {
		size := uint32(4000)
		if i > 0 {
			size = uint32(300 + 37*i)
		}
		t.Samples = append(t.Samples, Sample{
			Offset: off, DTS: int64(i) * 512, Size: size,
			Duration: 512, CTO: c, Sync: i == 0,
		})
		off += int64(size)
	}
	return t
}

// wtAudioTrack is AAC-LC at 48 kHz: 12 frames of 1024 samples with 2112
// samples of encoder priming in the edit list.
func wtAudioTrack() *Track {
	t := &Track{
		ID: 2, Kind: KindAudio, Timescale: 48000, Language: "eng",
		Format: "mp4a", SampleEntry: wtMP4A(), Codec: "mp4a.40.2",
		SampleRate: 48000, Channels: 2, EditOffset: 2112,
	}
	for i := range 12 {
		t.Samples = append(t.Samples, Sample{
			Offset: int64(1000 + 400*i), DTS: int64(i) * 1024,
			Size: uint32(360 + i), Duration: 1024, Sync: true,
		})
	}
	return t
}

type wtSegCase struct {
	name    string
	seq     uint32
	track   *Track
	samples []Sample
}

func wtSegCases() []wtSegCase {
	v, a := wtVideoTrack(), wtAudioTrack()
	// Two GOPs in one segment: per-sample flags.
	twoGOP := append([]Sample(nil), v.Samples...)
	twoGOP[5].Sync = true
	// No B-frames: composition offsets all zero after the shift.
	flat := *v
	flat.EditOffset = 0
	noB := make([]Sample, 4)
	for i := range noB {
		noB[i] = Sample{DTS: int64(10+i) * 512, Size: 100, Duration: 512, Sync: i == 0}
	}
	return []wtSegCase{
		{"video_gop", 1, v, v.Samples},
		{"video_two_gops", 7, v, twoGOP},
		{"video_no_bframes", 3, &flat, noB},
		{"audio", 2, a, a.Samples[4:]},
		{"empty", 9, v, nil},
	}
}

func TestWriterInitGolden(t *testing.T) {
	for _, tr := range []*Track{wtVideoTrack(), wtAudioTrack()} {
		t.Run(tr.Kind.String(), func(t *testing.T) {
			got := AppendInit(nil, tr)
			wtGolden(t, "writer_init_"+tr.Kind.String()+".golden", got)
			wtCheckBoxes(t, got, len(got))
		})
	}
}

func TestWriterSegmentGolden(t *testing.T) {
	for _, c := range wtSegCases() {
		t.Run(c.name, func(t *testing.T) {
			got := AppendSegmentHeader(nil, c.seq, c.track, c.samples)
			wtGolden(t, "writer_segment_"+c.name+".golden", got)
		})
	}
}

func TestWriterSegmentStructure(t *testing.T) {
	for _, c := range wtSegCases() {
		t.Run(c.name, func(t *testing.T) {
			got := AppendSegmentHeader(nil, c.seq, c.track, c.samples)
			if n := SegmentHeaderSize(c.track, c.samples); n != len(got) {
				t.Fatalf("SegmentHeaderSize = %d, header is %d bytes", n, len(got))
			}
			var payload int
			for _, s := range c.samples {
				payload += int(s.Size)
			}
			wtCheckBoxes(t, got, len(got)+payload)
			seg := wtParseSegment(t, got)
			wtCheckSegment(t, c, seg, len(got))
		})
	}
}

// wtCheckSegment compares a parsed segment header with what was asked for.
func wtCheckSegment(t *testing.T, c wtSegCase, seg wtSegment, headerLen int) {
	t.Helper()
	if seg.seq != c.seq || seg.trackID != c.track.ID {
		t.Errorf("seq %d track %d, want %d %d", seg.seq, seg.trackID, c.seq, c.track.ID)
	}
	if seg.dataOffset != headerLen-seg.moofStart {
		t.Errorf("data_offset %d, want %d", seg.dataOffset, headerLen-seg.moofStart)
	}
	if len(seg.samples) != len(c.samples) {
		t.Fatalf("%d samples, want %d", len(seg.samples), len(c.samples))
	}
	if len(c.samples) > 0 && seg.baseTime != uint64(c.samples[0].DTS) {
		t.Errorf("tfdt %d, want %d", seg.baseTime, c.samples[0].DTS)
	}
	var shift int32
	if c.track.Kind == KindVideo {
		shift = int32(c.track.EditOffset)
	}
	for i, s := range c.samples {
		want := wtSample{s.Duration, s.Size, s.CTO - shift, s.Sync}
		if seg.samples[i] != want {
			t.Errorf("sample %d: got %+v, want %+v", i, seg.samples[i], want)
		}
	}
}

func TestWriterFlagsCoding(t *testing.T) {
	cases := map[string]struct {
		tfhdDefault, trunFirst, trunPerSample, trunCTO bool
	}{
		"video_gop":        {true, true, false, true},
		"video_two_gops":   {false, false, true, true},
		"video_no_bframes": {true, true, false, false},
		"audio":            {true, false, false, false},
		"empty":            {false, false, false, false},
	}
	for _, c := range wtSegCases() {
		t.Run(c.name, func(t *testing.T) {
			want := cases[c.name]
			p := wPlanSegment(c.track, c.samples)
			got := struct{ tfhdDefault, trunFirst, trunPerSample, trunCTO bool }{
				p.tfhdFlags&wTfhdDefaultFlags != 0, p.trunFlags&wTrunFirstFlags != 0,
				p.trunFlags&wTrunFlags != 0, p.trunFlags&wTrunCompositionTO != 0,
			}
			if got != want {
				t.Errorf("flags coding %+v, want %+v", got, want)
			}
		})
	}
}

func TestWriterDeterministic(t *testing.T) {
	v := wtVideoTrack()
	a := AppendInit(nil, v)
	b := AppendInit(make([]byte, 0, 4), wtVideoTrack())
	if !bytes.Equal(a, b) {
		t.Error("AppendInit differs between two runs")
	}
	s1 := AppendSegmentHeader(nil, 5, v, v.Samples)
	s2 := AppendSegmentHeader(nil, 5, wtVideoTrack(), wtVideoTrack().Samples)
	if !bytes.Equal(s1, s2) {
		t.Error("AppendSegmentHeader differs between two runs")
	}
}

func TestWriterAppendsToDst(t *testing.T) {
	v := wtVideoTrack()
	prefix := []byte("prefix")
	got := AppendSegmentHeader(append([]byte(nil), prefix...), 1, v, v.Samples)
	want := AppendSegmentHeader(nil, 1, v, v.Samples)
	if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], want) {
		t.Error("AppendSegmentHeader does not append after the existing bytes")
	}
	got = AppendInit(append([]byte(nil), prefix...), v)
	if !bytes.Equal(got[len(prefix):], AppendInit(nil, v)) {
		t.Error("AppendInit does not append after the existing bytes")
	}
}

func TestWriterLargeMdat(t *testing.T) {
	tr := &Track{ID: 1, Kind: KindVideo, Timescale: 1000}
	cases := []struct {
		name    string
		sizes   []uint32
		hdr     int
		mdatLen uint64
	}{
		{"fits", []uint32{0xFFFFFFFF - 8}, 8, 0xFFFFFFFF},
		{"largesize", []uint32{0xFFFFFFFF - 7}, 16, 0xFFFFFFFF - 7 + 16},
		{"two_big", []uint32{0xF0000000, 0xF0000000}, 16, 2*0xF0000000 + 16},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var samples []Sample
			for _, s := range c.sizes {
				samples = append(samples, Sample{Size: s, Duration: 1, Sync: true})
			}
			got := AppendSegmentHeader(nil, 1, tr, samples)
			if SegmentHeaderSize(tr, samples) != len(got) {
				t.Fatalf("SegmentHeaderSize mismatch")
			}
			mdat := got[len(got)-c.hdr:]
			if string(mdat[4:8]) != "mdat" {
				t.Fatalf("no mdat header in the last %d bytes", c.hdr)
			}
			size := uint64(binary.BigEndian.Uint32(mdat))
			if c.hdr == 16 {
				if size != 1 {
					t.Fatalf("size field %d, want 1", size)
				}
				size = binary.BigEndian.Uint64(mdat[8:])
			}
			if size != c.mdatLen {
				t.Errorf("mdat size %d, want %d", size, c.mdatLen)
			}
		})
	}
}

func TestWriterPackLanguage(t *testing.T) {
	und := uint16(21<<10 | 14<<5 | 4)
	cases := []struct {
		in   string
		want uint16
	}{
		{"und", und},
		{"eng", 5<<10 | 14<<5 | 7},
		{"fra", 6<<10 | 18<<5 | 1},
		{"", und},
		{"EN", und},
		{"ENG", und},
		{"engl", und},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			if got := wPackLanguage(c.in); got != c.want {
				t.Errorf("wPackLanguage(%q) = %#x, want %#x", c.in, got, c.want)
			}
		})
	}
}

func BenchmarkAppendSegmentHeader(b *testing.B) {
	// 6 s of 30 fps 1080p: 180 samples, one keyframe, B-frames.
	tr := &Track{ID: 1, Kind: KindVideo, Timescale: 15360, EditOffset: 1024}
	samples := make([]Sample, 180)
	for i := range samples {
		samples[i] = Sample{DTS: int64(i) * 512, Size: 20000 + uint32(i), Duration: 512,
			CTO: int32(512 * (1 + i%3)), Sync: i == 0}
	}
	buf := make([]byte, 0, SegmentHeaderSize(tr, samples))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendSegmentHeader(buf[:0], 1, tr, samples)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkAppendInit(b *testing.B) {
	tr := wtVideoTrack()
	buf := AppendInit(nil, tr)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendInit(buf[:0], tr)
	}
	b.SetBytes(int64(len(buf)))
}
