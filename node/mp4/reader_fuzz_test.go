package mp4

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzReadFile feeds arbitrary bytes to ReadFile. The committed corpus in
// testdata/fuzz/FuzzReadFile holds tiny ffmpeg outputs (progressive H.264 +
// AAC, fragmented, HEVC, audio only); f.Add adds hand-built files.
func FuzzReadFile(f *testing.F) {
	f.Add(progressiveFile(30, videoTrak(1, nil)))
	frag, _ := fragFile(mkbox("traf", mkfull("tfhd", 0, tfhdDefaultBaseIsMoof, be32(1)),
		mkfull("tfdt", 1, 0, be64(5000)),
		mkfull("trun", 1, trunDataOffset|trunFirstSampleFlags|trunCTO, be32(2), be32(300), be32(0), be32(2000), be32(0xFFFFFC18))))
	f.Add(frag)
	f.Add(progressiveFile(30, trakBox(1, "soun", 44100, mp4aEntry(esdsBox(0x40, []byte{0x11, 0x90})), nil,
		mkfull("stts", 0, 0, entries(1, be32(3), be32(1024))),
		mkfull("stsc", 0, 0, entries(1, be32(1), be32(3), be32(1))),
		mkfull("stz2", 0, 0, []byte{0, 0, 0, 4}, be32(3), []byte{0x56, 0x70}),
		mkfull("co64", 0, 0, entries(1, be64(dataStart))))))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ReadFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrNoTracks) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		checkInvariants(t, file, int64(len(data)))
	})
}

// checkInvariants asserts what every successful ReadFile guarantees.
func checkInvariants(t *testing.T, f *File, size int64) {
	if len(f.Tracks) == 0 {
		t.Fatal("success without tracks")
	}
	for _, tr := range f.Tracks {
		if tr.Timescale == 0 || tr.Codec == "" || len(tr.Language) != 3 {
			t.Fatalf("track %d: timescale %d codec %q language %q", tr.ID, tr.Timescale, tr.Codec, tr.Language)
		}
		if len(tr.SampleEntry) < 8 || string(tr.SampleEntry[4:8]) != tr.Format {
			t.Fatalf("track %d: sample entry does not match format %q", tr.ID, tr.Format)
		}
		for i, s := range tr.Samples {
			if s.Offset < 0 || s.Offset+int64(s.Size) > size {
				t.Fatalf("track %d sample %d: [%d,+%d) outside %d byte file", tr.ID, i, s.Offset, s.Size, size)
			}
			if tr.Kind == KindAudio && !s.Sync {
				t.Fatalf("track %d sample %d: audio sample not sync", tr.ID, i)
			}
		}
	}
}

func BenchmarkReadFile(b *testing.B) {
	cases := []struct {
		name string
		data func(b *testing.B) []byte
	}{
		{"h264-aac", func(b *testing.B) []byte { return fixtureBytes(b, "h264-aac") }},
		{"fragmented", func(b *testing.B) []byte { return fixtureBytes(b, "fragmented") }},
		{"synthetic-100k-samples", func(*testing.B) []byte { return hugeMoovFile(100_000) }},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			data := bc.data(b)
			r := bytes.NewReader(data)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := ReadFile(r, int64(len(data))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
