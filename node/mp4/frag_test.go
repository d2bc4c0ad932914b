package mp4

import (
	"errors"
	"reflect"
	"testing"
)

// fragMoov is an empty-moov with one video track (ID 1) and one audio track
// (ID 2) and trex defaults: duration 1000, size 10, non-sync flags.
func fragMoov() []byte {
	empty := [][]byte{
		mkfull("stts", 0, 0, be32(0)), mkfull("stsc", 0, 0, be32(0)),
		mkfull("stsz", 0, 0, be32(0), be32(0)), mkfull("stco", 0, 0, be32(0)),
	}
	aac := mp4aEntry(esdsBox(0x40, []byte{0x11, 0x90}))
	trex := func(id uint32) []byte {
		return mkfull("trex", 0, 0, be32(id), be32(1), be32(1000), be32(10), be32(sampleIsNonSync))
	}
	mvhd := mkfull("mvhd", 0, 0, make([]byte, 96))
	return mkbox("moov", mvhd, trakBox(1, "vide", 90000, avc1Entry(), nil, empty...),
		trakBox(2, "soun", 48000, aac, nil, empty...), mkbox("mvex", trex(1), trex(2)))
}

// fragFile returns ftyp, moov, one moof holding trafs, and a 400 byte mdat,
// plus the moof offset.
func fragFile(trafs ...[]byte) ([]byte, int64) {
	head := cat(mkbox("ftyp", []byte("iso6"), be32(0)), fragMoov())
	moof := mkbox("moof", mkfull("mfhd", 0, 0, be32(1)), cat(trafs...))
	return cat(head, moof, mkbox("mdat", make([]byte, 400))), int64(len(head))
}

func TestFragments(t *testing.T) {
	tfdt := mkfull("tfdt", 1, 0, be64(5000))
	tests := []struct {
		name  string
		trafs func(moofOff int64) [][]byte
		want  func(moofOff int64) []Sample
	}{
		{"default-base-is-moof, trun v1, first-sample-flags", func(int64) [][]byte {
			return [][]byte{mkbox("traf", mkfull("tfhd", 0, tfhdDefaultBaseIsMoof, be32(1)), tfdt,
				mkfull("trun", 1, trunDataOffset|trunFirstSampleFlags|trunCTO, be32(2), be32(300), be32(0), be32(2000), be32(0xFFFFFC18)))}
		}, func(m int64) []Sample {
			return []Sample{
				{Offset: m + 300, DTS: 5000, Size: 10, Duration: 1000, CTO: 2000, Sync: true},
				{Offset: m + 310, DTS: 6000, Size: 10, Duration: 1000, CTO: -1000},
			}
		}},
		{"base-data-offset and tfhd defaults", func(m int64) [][]byte {
			return [][]byte{mkbox("traf", mkfull("tfhd", 0, tfhdBaseDataOffset|tfhdSampleDescIndex|tfhdDefaultDuration|tfhdDefaultSize|tfhdDefaultFlags,
				be32(1), be64(uint64(m+100)), be32(1), be32(3003), be32(7), be32(0)),
				mkfull("trun", 0, 0, be32(2)), mkfull("trun", 0, trunSize, be32(1), be32(5)))}
		}, func(m int64) []Sample {
			return []Sample{
				{Offset: m + 100, DTS: 0, Size: 7, Duration: 3003, Sync: true},
				{Offset: m + 107, DTS: 3003, Size: 7, Duration: 3003, Sync: true},
				{Offset: m + 114, DTS: 6006, Size: 5, Duration: 3003, Sync: true},
			}
		}},
		{"second traf continues after the first", func(int64) [][]byte {
			return [][]byte{
				mkbox("traf", mkfull("tfhd", 0, 0, be32(2)), mkfull("trun", 0, trunDataOffset|trunDuration, be32(1), be32(200), be32(1024))),
				mkbox("traf", mkfull("tfhd", 0, 0, be32(1)), tfdt, mkfull("trun", 0, trunFlags, be32(1), be32(0))),
			}
		}, func(m int64) []Sample {
			return []Sample{{Offset: m + 210, DTS: 5000, Size: 10, Duration: 1000, Sync: true}}
		}},
		{"unknown track ignored", func(int64) [][]byte {
			return [][]byte{mkbox("traf", mkfull("tfhd", 0, tfhdDefaultBaseIsMoof, be32(9)), mkfull("trun", 0, 0, be32(1)))}
		}, func(int64) []Sample { return nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, off := fragFile()
			file, _ := fragFile(tc.trafs(off)...)
			f, err := readBytes(file)
			if err != nil {
				t.Fatal(err)
			}
			if !f.Fragmented || len(f.Tracks) != 2 || f.MajorBrand != "iso6" {
				t.Fatalf("fragmented %v, %d tracks, brand %q", f.Fragmented, len(f.Tracks), f.MajorBrand)
			}
			got, want := f.Tracks[0].Samples, tc.want(off)
			if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
				t.Fatalf("samples\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestFragmentAudioDTSContinues(t *testing.T) {
	_, off := fragFile()
	trun := mkfull("trun", 0, trunDataOffset|trunDuration, be32(2), be32(100), be32(1024), be32(1024))
	traf := mkbox("traf", mkfull("tfhd", 0, tfhdDefaultBaseIsMoof, be32(2)), trun)
	head := cat(mkbox("ftyp", []byte("iso6"), be32(0)), fragMoov())
	moof := mkbox("moof", mkfull("mfhd", 0, 0, be32(1)), traf)
	file := cat(head, moof, moof, mkbox("mdat", make([]byte, 400)))
	f, err := readBytes(file)
	if err != nil {
		t.Fatal(err)
	}
	a := f.Tracks[1]
	if a.Codec != "mp4a.40.2" || a.SampleRate != 48000 || a.Channels != 2 {
		t.Fatalf("audio codec %q %d Hz %d ch", a.Codec, a.SampleRate, a.Channels)
	}
	if len(a.Samples) != 4 || a.Samples[3].DTS != 3072 || !a.Samples[3].Sync || a.Samples[2].Offset != off+int64(len(moof))+100 {
		t.Fatalf("samples %+v", a.Samples)
	}
}

func TestFragmentErrors(t *testing.T) {
	tfhd := mkfull("tfhd", 0, tfhdDefaultBaseIsMoof, be32(1))
	tests := []struct {
		name string
		traf []byte
	}{
		{"trun count past box", mkbox("traf", tfhd, mkfull("trun", 0, trunSize, be32(1000), be32(5)))},
		{"trun count without sizes", mkbox("traf", mkfull("tfhd", 0, tfhdDefaultBaseIsMoof|tfhdDefaultSize, be32(1), be32(0)), mkfull("trun", 0, 0, be32(0xFFFFFFFF)))},
		{"trun huge count of defaults", mkbox("traf", tfhd, mkfull("trun", 0, 0, be32(0xFFFFFFFF)))},
		{"sample past end of file", mkbox("traf", tfhd, mkfull("trun", 0, trunDataOffset|trunSize, be32(1), be32(300), be32(100000)))},
		{"negative data offset", mkbox("traf", tfhd, mkfull("trun", 0, trunDataOffset, be32(1), be32(0xFFFF0000)))},
		{"base data offset past end", mkbox("traf", mkfull("tfhd", 0, tfhdBaseDataOffset, be32(1), be64(1<<40)))},
		{"missing tfhd", mkbox("traf", mkfull("trun", 0, 0, be32(1)))},
		{"truncated tfhd", mkbox("traf", mkfull("tfhd", 0, tfhdBaseDataOffset, be32(1)))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file, _ := fragFile(tc.traf)
			if _, err := readBytes(file); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}
