package mp4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"github.com/classmesh/classmesh/internal/testmedia"
)

// entryChild returns the body of the child box typ of a sample entry whose
// fixed fields are skip bytes long.
func entryChild(t testing.TB, entry []byte, skip int, typ string) []byte {
	t.Helper()
	b := entry[8+skip:]
	for len(b) >= 8 {
		size := int(binary.BigEndian.Uint32(b))
		if size < 8 || size > len(b) {
			break
		}
		if string(b[4:8]) == typ {
			return b[8:size]
		}
		b = b[size:]
	}
	t.Fatalf("no %s in sample entry", typ)
	return nil
}

func TestParseSPS(t *testing.T) {
	tests := []struct {
		name   string
		sps    []byte
		w, h   int
		prof   uint8
		wantOK bool
	}{
		{"high 320x180", wtSPS(), 320, 180, 100, true},
		{"truncated", wtSPS()[:6], 0, 0, 0, false},
		{"not an SPS", append([]byte{0x68}, wtSPS()[1:]...), 0, 0, 0, false},
		{"empty", nil, 0, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSPS(tt.sps)
			if (err == nil) != tt.wantOK {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
					t.Errorf("error %v wraps no sentinel", err)
				}
				return
			}
			if s.Width != tt.w || s.Height != tt.h || s.Profile != tt.prof {
				t.Errorf("got %+v", s)
			}
		})
	}
}

func TestSPSVUIFrameRate(t *testing.T) {
	var w wtBits
	w.u(8, 66) // baseline: no high profile fields
	w.u(8, 0xC0)
	w.u(8, 30)
	w.ue(0)     // sps id
	w.ue(0)     // log2_max_frame_num_minus4
	w.ue(2)     // poc type 2
	w.ue(1)     // max_num_ref_frames
	w.u(1, 0)   // gaps
	w.ue(79)    // 1280
	w.ue(44)    // 720
	w.u(1, 1)   // frame_mbs_only
	w.u(1, 1)   // direct_8x8
	w.u(1, 0)   // no cropping
	w.u(1, 1)   // vui present
	w.u(1, 1)   // aspect_ratio_info_present
	w.u(8, 255) // Extended_SAR
	w.u(32, 1<<16|1)
	w.u(1, 0)    // overscan
	w.u(1, 1)    // video_signal_type_present
	w.u(4, 5<<1) // video_format, full_range
	w.u(1, 1)    // colour description
	w.u(24, 0x010101)
	w.u(1, 0) // chroma loc
	w.u(1, 1) // timing
	w.u(32, 1001)
	w.u(32, 60000)
	w.u(1, 1) // fixed_frame_rate
	s, err := ParseSPS(wtNAL(0x67, w.trailing()))
	if err != nil {
		t.Fatal(err)
	}
	if s.Width != 1280 || s.Height != 720 || s.FrameRate < 29.96 || s.FrameRate > 29.98 {
		t.Errorf("got %+v", s)
	}
}

func TestNewAVCTrackRoundTrip(t *testing.T) {
	record := wtAvcC(wtSPS(), wtPPS())[8:]
	tr, err := NewAVCTrack(1, 0, record)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Width != 320 || tr.Height != 180 || tr.Codec != "avc1.64000D" || tr.Timescale != 90000 {
		t.Fatalf("track %+v", tr)
	}
	f := readInit(t, AppendInit(nil, tr))
	got := f.Tracks[0]
	if got.Codec != tr.Codec || got.Width != 320 || got.Height != 180 || !bytes.Equal(got.SampleEntry, tr.SampleEntry) {
		t.Errorf("read back %+v", got)
	}
	for _, bad := range [][]byte{nil, record[:6], append([]byte{2}, record[1:]...), record[:12]} {
		if _, err := NewAVCTrack(1, 0, bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("NewAVCTrack(%x) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestParseAVCConfigRules(t *testing.T) {
	sps, pps := wtSPS(), wtPPS()
	record := wtAvcC(sps, pps)[8:]
	cfg, err := ParseAVCConfig(record)
	if err != nil || len(cfg.SPS) != 1 || len(cfg.PPS) != 1 || cfg.LengthSize != 4 {
		t.Fatalf("ParseAVCConfig = %+v, %v", cfg, err)
	}
	noPPS := append(append([]byte(nil), record[:8+len(sps)]...), 0)
	ppsAsSPS := wtAvcC(pps, pps)[8:]
	spsAsPPS := wtAvcC(sps, sps)[8:]
	for name, bad := range map[string][]byte{"no PPS": noPPS, "PPS in the SPS list": ppsAsSPS, "SPS in the PPS list": spsAsPPS} {
		if _, err := ParseAVCConfig(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
}

func readInit(t *testing.T, init []byte) *File {
	t.Helper()
	f, err := ReadFile(bytes.NewReader(init), int64(len(init)))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tracks) != 1 {
		t.Fatalf("%d tracks", len(f.Tracks))
	}
	return f
}

func TestParseAACConfig(t *testing.T) {
	tests := []struct {
		name string
		asc  []byte
		want AACConfig
		err  error
	}{
		{"lc 48k stereo", []byte{0x11, 0x90}, AACConfig{2, 48000, 48000, 2, 1024}, nil},
		{"lc 44.1k mono 960", []byte{0x12, 0x0C}, AACConfig{2, 44100, 44100, 1, 960}, nil},
		// HE-AAC explicit: aot 5, core 24 kHz, stereo, ext 48 kHz, aot 2.
		{"he-aac", []byte{0x2B, 0x11, 0x88, 0x00}, AACConfig{5, 24000, 48000, 2, 1024}, nil},
		// HE-AACv2 explicit: a mono core decodes to stereo (parametric stereo).
		{"he-aac v2 mono core", []byte{0xEB, 0x09, 0x88}, AACConfig{29, 24000, 48000, 2, 1024}, nil},
		{"object type 0", []byte{0x01, 0x90}, AACConfig{}, ErrMalformed},
		{"reserved rate", []byte{0x16, 0x90}, AACConfig{}, ErrMalformed},
		{"truncated", []byte{0x11}, AACConfig{}, ErrMalformed},
		{"celp", []byte{0x41, 0x90}, AACConfig{}, ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAACConfig(tt.asc)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestNewAACTrackRoundTrip(t *testing.T) {
	tr, cfg, err := NewAACTrack(2, []byte{0x11, 0x90})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.FrameLength != 1024 || tr.Timescale != 48000 || tr.Codec != "mp4a.40.2" {
		t.Fatalf("track %+v", tr)
	}
	got := readInit(t, AppendInit(nil, tr)).Tracks[0]
	if got.Codec != "mp4a.40.2" || got.SampleRate != 48000 || got.Channels != 2 || !bytes.Equal(got.SampleEntry, tr.SampleEntry) {
		t.Errorf("read back %+v", got)
	}
	long := bytes.Repeat([]byte{0x11, 0x90}, 100) // descriptor size > 127
	tr, _, err = NewAACTrack(2, long)
	if err != nil {
		t.Fatal(err)
	}
	if got := readInit(t, AppendInit(nil, tr)).Tracks[0]; got.Codec != "mp4a.40.2" {
		t.Errorf("long ASC: %+v", got)
	}
}

// TestEntriesMatchFFmpeg rebuilds the sample entries of an ffmpeg file from
// its avcC and AudioSpecificConfig.
func TestEntriesMatchFFmpeg(t *testing.T) {
	testmedia.RequireFFmpeg(t)
	b, err := os.ReadFile(testmedia.Make(t, "h264-aac"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range f.Tracks {
		var tr *Track
		switch src.Kind {
		case KindVideo:
			tr, err = NewAVCTrack(1, 0, entryChild(t, src.SampleEntry, visualEntryLen, "avcC"))
		case KindAudio:
			esds := entryChild(t, src.SampleEntry, audioEntryLen, "esds")
			// The ASC is the last descriptor body; ffmpeg writes 2 bytes.
			asc := esds[bytes.Index(esds, []byte{0x05, 0x80, 0x80, 0x80})+5:][:2]
			tr, _, err = NewAACTrack(2, asc)
		}
		if err != nil {
			t.Fatal(err)
		}
		if tr.Codec != src.Codec || tr.Width != src.Width || tr.Height != src.Height ||
			(src.Kind == KindAudio && (tr.SampleRate != src.SampleRate || tr.Channels != src.Channels)) {
			t.Errorf("%s: built %+v, ffmpeg %+v", src.Kind, tr, src)
		}
	}
}
