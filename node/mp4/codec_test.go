package mp4

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestHEVCCodec(t *testing.T) {
	rec := func(b1 byte, compat uint32, cons [6]byte, level byte) []byte {
		b := []byte{1, b1}
		b = binary.BigEndian.AppendUint32(b, compat)
		b = append(b, cons[:]...)
		return append(b, level, 0xF0, 0)
	}
	tests := []struct {
		name, format string
		rec          []byte
		want         string
	}{
		{"main", "hvc1", rec(0x01, 0x60000000, [6]byte{0xB0}, 93), "hvc1.1.6.L93.B0"},
		{"main10 high tier space 1", "hev1", rec(0x62, 0x20000000, [6]byte{0x90, 0, 0, 0, 0, 1}, 120), "hev1.A2.4.H120.90.0.0.0.0.1"},
		{"no constraints", "hvc1", rec(0x01, 0x60000000, [6]byte{}, 90), "hvc1.1.6.L90"},
		{"space 3", "hvc1", rec(0xC4, 0x08000000, [6]byte{0, 0x23}, 153), "hvc1.C4.10.L153.0.23"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := hevcCodec(tc.format, tc.rec, "hvcC")
			if err != nil || got != tc.want {
				t.Fatalf("hevcCodec = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := hevcCodec("hvc1", []byte{1, 2, 3}, "hvcC"); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short record: %v", err)
	}
}

func TestAVCCodec(t *testing.T) {
	tests := []struct {
		format string
		rec    []byte
		want   string
		err    error
	}{
		{"avc1", []byte{1, 0x64, 0x00, 0x1F}, "avc1.64001F", nil},
		{"avc3", []byte{1, 0x42, 0xC0, 0x0D, 0xFF}, "avc3.42C00D", nil},
		{"avc1", []byte{1, 0x64}, "", ErrMalformed},
		{"avc1", []byte{0, 0x64, 0, 0x1F}, "", ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			got, err := avcCodec(tc.format, tc.rec, "avcC")
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Fatalf("avcCodec = %q, %v; want %q, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestASC(t *testing.T) {
	tests := []struct {
		name string
		asc  []byte
		want [3]int // ObjectType, OutputRate, Channels
		err  bool
	}{
		{"AAC-LC 48k stereo", []byte{0x11, 0x90}, [3]int{2, 48000, 2}, false},
		{"object type escape", []byte{0xF9, 0x48, 0x20}, [3]int{42, 44100, 1}, false},
		{"frequency escape", []byte{0x17, 0x80, 0x2B, 0x11, 0x08}, [3]int{2, 22050, 1}, false},
		{"HE-AAC explicit SBR", []byte{0x2B, 0x11, 0x88}, [3]int{5, 48000, 2}, false},
		{"HE-AACv2 mono core", []byte{0xEB, 0x09, 0x88}, [3]int{29, 48000, 2}, false},
		{"reserved frequency index", []byte{0x16, 0x90}, [3]int{}, true},
		{"truncated", []byte{0x11}, [3]int{}, true},
		{"object type 0", []byte{0x01, 0x90}, [3]int{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseASC(tc.asc)
			if (err != nil) != tc.err || err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v", err)
			}
			if !tc.err && [3]int{got.ObjectType, got.OutputRate, got.Channels} != tc.want {
				t.Fatalf("ParseASC = %+v, want %v", got, tc.want)
			}
		})
	}
}

func TestAudioEntries(t *testing.T) {
	longDesc := func(oti byte, asc []byte) []byte {
		// Descriptor sizes in the 4-byte form 0x80 0x80 0x80 n.
		dsi := cat([]byte{5, 0x80, 0x80, 0x80, byte(len(asc))}, asc)
		dcd := cat([]byte{4, 0x80, 0x80, 0x80, byte(13 + len(dsi)), oti, 0x15, 0, 0, 0}, be32(0), be32(0), dsi)
		return mkfull("esds", 0, 0, cat([]byte{3, 0x80, 0x80, 0x80, byte(3 + len(dcd))}, []byte{0, 1, 0}, dcd))
	}
	tests := []struct {
		name     string
		esds     []byte
		codec    string
		rate     uint32
		channels uint16
	}{
		{"aac", esdsBox(0x40, []byte{0x11, 0x90}), "mp4a.40.2", 48000, 2},
		{"aac long descriptor sizes", longDesc(0x40, []byte{0x12, 0x08}), "mp4a.40.2", 44100, 1},
		{"mp3", esdsBox(0x6B, nil), "mp4a.6B", 44100, 2},
		{"mpeg-2 audio", esdsBox(0x69, nil), "mp4a.69", 44100, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := readBytes(progressiveFile(30, trakBox(1, "soun", 44100, mp4aEntry(tc.esds), nil, simpleTables(3, 10, 1024)...)))
			if err != nil {
				t.Fatal(err)
			}
			tr := f.Tracks[0]
			if tr.Codec != tc.codec || tr.SampleRate != tc.rate || tr.Channels != tc.channels || tr.Format != "mp4a" {
				t.Fatalf("codec %q %d Hz %d ch", tr.Codec, tr.SampleRate, tr.Channels)
			}
		})
	}
}

func TestAudioEntryErrors(t *testing.T) {
	tests := []struct {
		name string
		esds []byte
		want error
	}{
		{"ac-3 object type", esdsBox(0xA5, nil), ErrUnsupported},
		{"aac without ASC", esdsBox(0x40, nil), ErrMalformed},
		{"bad ES tag", mkfull("esds", 0, 0, []byte{4, 0}), ErrMalformed},
		{"descriptor past box", mkfull("esds", 0, 0, []byte{3, 50, 0, 1}), ErrMalformed},
		{"no esds", nil, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readBytes(progressiveFile(30, trakBox(1, "soun", 44100, mp4aEntry(tc.esds), nil, simpleTables(3, 10, 1024)...)))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}
