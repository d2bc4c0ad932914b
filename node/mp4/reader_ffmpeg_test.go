package mp4

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/classmesh/classmesh/internal/testmedia"
)

// readPath parses the file at path.
func readPath(t testing.TB, path string) (*File, []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(sliceReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("ReadFile(%s): %v", path, err)
	}
	return f, data
}

// sliceReader is an io.ReaderAt over a byte slice.
type sliceReader []byte

func (s sliceReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(s)) {
		return 0, fmt.Errorf("offset %d out of range", off)
	}
	n := copy(p, s[off:])
	if n < len(p) {
		return n, fmt.Errorf("short read at %d: EOF", off)
	}
	return n, nil
}

func TestFixturesAgainstFFprobe(t *testing.T) {
	for _, name := range testmedia.Names() {
		t.Run(name, func(t *testing.T) {
			path := testmedia.Make(t, name)
			f, _ := readPath(t, path)
			probe := testmedia.ProbeFile(t, path)
			if f.Fragmented != (name == "fragmented") {
				t.Errorf("Fragmented = %v", f.Fragmented)
			}
			if len(f.Tracks) != len(probe.Streams) {
				t.Fatalf("%d tracks, ffprobe has %d streams", len(f.Tracks), len(probe.Streams))
			}
			for i, tr := range f.Tracks {
				t.Run(fmt.Sprintf("track%d", tr.ID), func(t *testing.T) {
					compareStream(t, tr, probe.Streams[i], probe.StreamPackets(i), f.Fragmented)
				})
			}
		})
	}
}

// compareStream checks one track against ffprobe's stream and packets.
func compareStream(t *testing.T, tr *Track, st testmedia.Stream, pkts []testmedia.Packet, fragmented bool) {
	if tr.Kind.String() != st.CodecType {
		t.Fatalf("kind %s, ffprobe %s", tr.Kind, st.CodecType)
	}
	if want := "1/" + strconv.Itoa(int(tr.Timescale)); st.TimeBase != want {
		t.Errorf("timescale %d, ffprobe time_base %s", tr.Timescale, st.TimeBase)
	}
	if lang := st.Tags["language"]; lang != "" && lang != tr.Language {
		t.Errorf("language %q, ffprobe %q", tr.Language, lang)
	}
	if tr.Format != st.CodecTag {
		t.Errorf("format %q, ffprobe tag %q", tr.Format, st.CodecTag)
	}
	if want := expectedCodec(t, tr, st); !strings.HasPrefix(tr.Codec, want) {
		t.Errorf("codec %q, want prefix %q from ffprobe", tr.Codec, want)
	}
	checkEntry(t, tr, st)
	if len(tr.Samples) != st.Packets() || len(pkts) != len(tr.Samples) {
		t.Fatalf("%d samples, ffprobe counted %d (%d packets)", len(tr.Samples), st.Packets(), len(pkts))
	}
	comparePackets(t, tr, pkts, fragmented)
}

// checkEntry compares the sample entry fields.
func checkEntry(t *testing.T, tr *Track, st testmedia.Stream) {
	if len(tr.SampleEntry) < 8 || string(tr.SampleEntry[4:8]) != tr.Format {
		t.Errorf("SampleEntry does not start with a %s box header", tr.Format)
	}
	if tr.Kind == KindVideo && (int(tr.Width) != st.Width || int(tr.Height) != st.Height) {
		t.Errorf("size %dx%d, ffprobe %dx%d", tr.Width, tr.Height, st.Width, st.Height)
	}
	if tr.Kind == KindAudio && (strconv.Itoa(int(tr.SampleRate)) != st.SampleRate || int(tr.Channels) != st.Channels) {
		t.Errorf("audio %d Hz %d ch, ffprobe %s Hz %d ch", tr.SampleRate, tr.Channels, st.SampleRate, st.Channels)
	}
}

// expectedCodec derives the RFC 6381 value (or its stable prefix) from
// ffprobe's profile and level.
func expectedCodec(t *testing.T, tr *Track, st testmedia.Stream) string {
	switch st.CodecName {
	case "h264":
		profiles := map[string]int{"High": 0x64, "Main": 0x4D, "Constrained Baseline": 0x42, "Baseline": 0x42}
		p, ok := profiles[st.Profile]
		if !ok {
			t.Fatalf("unexpected h264 profile %q", st.Profile)
		}
		if !strings.HasSuffix(tr.Codec, fmt.Sprintf("%02X", st.Level)) {
			t.Errorf("codec %q does not end in level %02X", tr.Codec, st.Level)
		}
		return fmt.Sprintf("%s.%02X", tr.Format, p)
	case "hevc":
		profiles := map[string]int{"Main": 1, "Main 10": 2}
		return fmt.Sprintf("%s.%d.", tr.Format, profiles[st.Profile]) + "6.L" + strconv.Itoa(st.Level)
	case "aac":
		aots := map[string]int{"LC": 2, "HE-AAC": 5, "HE-AACv2": 29}
		return fmt.Sprintf("mp4a.40.%d", aots[st.Profile])
	}
	t.Fatalf("unexpected codec %q", st.CodecName)
	return ""
}

// comparePackets checks every sample against ffprobe's packet.
func comparePackets(t *testing.T, tr *Track, pkts []testmedia.Packet, fragmented bool) {
	var keys, wantKeys int
	var dur int64
	shift := pkts[0].DTS - tr.Samples[0].DTS
	if !fragmented && shift != -tr.EditOffset {
		t.Errorf("ffprobe shifts DTS by %d, EditOffset is %d", shift, tr.EditOffset)
	}
	for i, s := range tr.Samples {
		p := pkts[i]
		if s.Offset != p.PosInt() || int64(s.Size) != p.SizeInt() {
			t.Fatalf("sample %d at %d size %d, ffprobe pos %d size %d", i, s.Offset, s.Size, p.PosInt(), p.SizeInt())
		}
		if s.DTS+shift != p.DTS || s.DTS+int64(s.CTO)+shift != p.PTS {
			t.Fatalf("sample %d DTS %d CTO %d, ffprobe dts %d pts %d (shift %d)", i, s.DTS, s.CTO, p.DTS, p.PTS, shift)
		}
		if want := wantDuration(pkts, i, fragmented); want >= 0 && int64(s.Duration) != want {
			t.Errorf("sample %d duration %d, ffprobe %d", i, s.Duration, want)
		}
		if s.Sync {
			keys++
		}
		if p.Keyframe() {
			wantKeys++
		}
		dur += p.Duration
	}
	if keys != wantKeys {
		t.Errorf("%d sync samples, ffprobe %d keyframes", keys, wantKeys)
	}
	if !fragmented && tr.Duration() != dur {
		t.Errorf("duration %d, ffprobe packets sum to %d", tr.Duration(), dur)
	}
}

// wantDuration is ffprobe's duration of packet i. For fragmented files the
// mov demuxer rewrites packet durations around trimmed audio, so the
// distance to the next packet's DTS is used instead (-1: nothing to check).
func wantDuration(pkts []testmedia.Packet, i int, fragmented bool) int64 {
	if !fragmented {
		return pkts[i].Duration
	}
	if i+1 == len(pkts) {
		return -1
	}
	return pkts[i+1].DTS - pkts[i].DTS
}

func TestFixtureDetails(t *testing.T) {
	tests := []struct {
		name  string
		check func(t *testing.T, f *File)
	}{
		{"gop10", func(t *testing.T, f *File) {
			if n := countSync(f.Tracks[0]); n != 2 {
				t.Errorf("%d keyframes in 20 s with a 10 s GOP, want 2", n)
			}
		}},
		{"h264-aac", func(t *testing.T, f *File) {
			if n := countSync(f.Tracks[0]); n != 5 {
				t.Errorf("%d keyframes in 10 s with a 2 s GOP, want 5", n)
			}
			if f.Tracks[1].Codec != "mp4a.40.2" || f.Tracks[0].Codec[:5] != "avc1." {
				t.Errorf("codecs %q %q", f.Tracks[0].Codec, f.Tracks[1].Codec)
			}
		}},
		{"editlist", func(t *testing.T, f *File) {
			if f.Tracks[0].EditOffset <= 0 || f.Tracks[1].EditOffset != 1024 {
				t.Errorf("edit offsets %d %d, want video > 0 and AAC priming 1024", f.Tracks[0].EditOffset, f.Tracks[1].EditOffset)
			}
		}},
		{"no-bframes", func(t *testing.T, f *File) {
			for _, s := range f.Tracks[0].Samples {
				if s.CTO != 0 {
					t.Fatalf("composition offset %d without B-frames", s.CTO)
				}
			}
		}},
		{"two-audio", func(t *testing.T, f *File) {
			if f.Tracks[1].Language != "eng" || f.Tracks[2].Language != "fra" || f.Tracks[2].SampleRate != 44100 {
				t.Errorf("audio tracks %s/%d %s/%d", f.Tracks[1].Language, f.Tracks[1].SampleRate, f.Tracks[2].Language, f.Tracks[2].SampleRate)
			}
		}},
		{"hevc", func(t *testing.T, f *File) {
			if !strings.HasPrefix(f.Tracks[0].Codec, "hvc1.1.6.L") {
				t.Errorf("codec %q", f.Tracks[0].Codec)
			}
		}},
		{"fragmented", func(t *testing.T, f *File) {
			if !f.Fragmented || len(f.Tracks[0].Samples) != 300 {
				t.Errorf("fragmented %v with %d video samples", f.Fragmented, len(f.Tracks[0].Samples))
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := readPath(t, testmedia.Make(t, tc.name))
			tc.check(t, f)
		})
	}
}

func countSync(tr *Track) int {
	n := 0
	for _, s := range tr.Samples {
		if s.Sync {
			n++
		}
	}
	return n
}
