package vod

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/classmesh/classmesh/node/mp4"
)

func sampleFile() *mp4.File {
	v := videoTrack(15360, 512, 90, every(30, 90)...)
	v.SampleEntry = []byte("\x00\x00\x00\x10avc1fakeentry")
	v.Language = "und"
	v.EditOffset = 1024
	for i := range v.Samples {
		v.Samples[i].CTO = int32((i%3)-1) * 512
	}
	v.Samples[10].Offset += 5000 // a gap (interleaved audio)
	a := audioTrack(48000, 50)
	a.Samples[3].Offset = 10 // backwards offset
	a.Language = "eng"
	return &mp4.File{MajorBrand: "isom", Tracks: []*mp4.Track{v, a}}
}

func TestFileRecordRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		file *mp4.File
	}{
		{"video and audio", sampleFile()},
		{"fragmented empty brand", &mp4.File{Fragmented: true, Tracks: []*mp4.Track{audioTrack(44100, 3)}}},
		{"no tracks", &mp4.File{MajorBrand: "mp42"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := encodeFile("123-456", tt.file)
			id, got, err := decodeFile(rec)
			if err != nil {
				t.Fatal(err)
			}
			if id != "123-456" || !reflect.DeepEqual(got, tt.file) {
				t.Errorf("round trip mismatch:\n got %+v\nwant %+v", got, tt.file)
			}
			if !bytes.Equal(encodeFile(id, got), rec) {
				t.Error("re-encoding differs")
			}
		})
	}
}

func TestFileRecordCompact(t *testing.T) {
	f := &mp4.File{Tracks: []*mp4.Track{videoTrack(15360, 512, 10000, every(60, 10000)...)}}
	if n := len(encodeFile("id", f)); n > 7*10000 {
		t.Errorf("10000 samples take %d bytes, want <= 7 a sample", n)
	}
}

func TestDecodeFileRecordCorrupt(t *testing.T) {
	good := encodeFile("id", sampleFile())
	tests := []struct {
		name string
		rec  []byte
	}{
		{"empty", nil},
		{"bad magic", append([]byte("XXX\x01"), good[4:]...)},
		{"future version", append([]byte("CMF\x02"), good[4:]...)},
		{"truncated", good[:len(good)-3]},
		{"trailing", append(append([]byte(nil), good...), 0)},
		{"huge count", []byte("CMF\x01\x00\x00\x00\xff\xff\xff\xff\x0f")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := decodeFile(tt.rec); !errors.Is(err, ErrCorruptIndex) {
				t.Errorf("decodeFile = %v, want ErrCorruptIndex", err)
			}
		})
	}
}

func TestSegmentRecordRoundTrip(t *testing.T) {
	rec := &segmentRecord{fingerprint: "fp", renditions: map[string][]segEntry{
		"720p":  {{180, 123456}, {180, 99999}, {12, 800}},
		"audio": {{282, 90000}},
	}, order: []string{"720p", "audio"}}
	got, err := decodeSegments(encodeSegments(rec))
	if err != nil || !reflect.DeepEqual(got, rec) {
		t.Fatalf("round trip: %v %+v", err, got)
	}
	if _, err := decodeSegments(encodeSegments(rec)[:10]); !errors.Is(err, ErrCorruptIndex) {
		t.Errorf("truncated: %v", err)
	}
}

// FuzzDecodeIndex feeds arbitrary bytes to the index record decoders: they
// must not panic, and whatever decodes must re-encode to the same bytes.
func FuzzDecodeIndex(f *testing.F) {
	f.Add(encodeFile("size-mtime", sampleFile()))
	f.Add(encodeFile("", &mp4.File{}))
	f.Add(encodeSegments(&segmentRecord{fingerprint: "x", renditions: map[string][]segEntry{"a": {{1, 2}}}, order: []string{"a"}}))
	f.Add([]byte("CMF\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if id, file, err := decodeFile(b); err == nil {
			if again := encodeFile(id, file); !bytes.Equal(again, b) {
				// Varints have one canonical encoding only when
				// minimal; accept non-minimal input that decodes.
				if _, _, err := decodeFile(again); err != nil {
					t.Fatalf("re-encoded record does not decode: %v", err)
				}
			}
		}
		if rec, err := decodeSegments(b); err == nil {
			if _, err := decodeSegments(encodeSegments(rec)); err != nil {
				t.Fatalf("re-encoded segment record does not decode: %v", err)
			}
		}
	})
}
