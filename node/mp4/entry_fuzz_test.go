package mp4

import (
	"errors"
	"testing"
)

func checkEntryErr(t *testing.T, err error) {
	if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
		t.Fatalf("error %v wraps no sentinel", err)
	}
}

func FuzzParseSPS(f *testing.F) {
	f.Add(wtSPS())
	f.Add([]byte{0x67, 0x42, 0xC0, 0x1E, 0xF4, 0x0A, 0x0F, 0xC8})
	f.Add([]byte{0x67, 100, 0, 30, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSPS(b)
		checkEntryErr(t, err)
		if err == nil && (s.Width <= 0 || s.Height <= 0 || s.Width > 16*maxMacroblocksDim || s.Height > 32*maxMacroblocksDim) {
			t.Fatalf("size %dx%d", s.Width, s.Height)
		}
	})
}

func FuzzAVCConfig(f *testing.F) {
	f.Add(wtAvcC(wtSPS(), wtPPS())[8:])
	f.Add([]byte{1, 100, 0, 13, 0xFF, 0xE1, 0, 1, 0x67, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := NewAVCTrack(1, 0, b)
		checkEntryErr(t, err)
		if err == nil && (tr.Width == 0 || tr.Height == 0 || len(tr.SampleEntry) < len(b)) {
			t.Fatalf("track %+v", tr)
		}
	})
}

func FuzzAACConfig(f *testing.F) {
	f.Add([]byte{0x11, 0x90})
	f.Add([]byte{0x2B, 0x11, 0x88, 0x00})
	f.Add([]byte{0xF8, 0x00, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, cfg, err := NewAACTrack(2, b)
		checkEntryErr(t, err)
		if err == nil && (tr.Timescale == 0 || cfg.FrameLength == 0) {
			t.Fatalf("config %+v", cfg)
		}
	})
}
