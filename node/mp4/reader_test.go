package mp4

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
)

// videoTrak is a three-sample avc1 track of 10-byte samples at dataStart.
func videoTrak(id uint32, edts []byte) []byte {
	return trakBox(id, "vide", 90000, avc1Entry(), edts, simpleTables(3, 10, 3000)...)
}

func readBytes(b []byte) (*File, error) { return ReadFile(bytes.NewReader(b), int64(len(b))) }

func TestReadFileLayouts(t *testing.T) {
	ftyp := mkbox("ftyp", []byte("mp42"), be32(0), []byte("isom"))
	moov := mkbox("moov", videoTrak(1, nil))
	mdat := cat(be32(8+30), []byte("mdat"), make([]byte, 30))
	// The 16-byte largesize header shifts data by 8: ftyp is 20 bytes, so
	// data starts at 36 and chunk offsets say 28; use a co64 variant.
	largeMdat := cat(be32(1), []byte("mdat"), be64(16+30), make([]byte, 30))
	largeTrak := trakBox(1, "vide", 90000, avc1Entry(), nil,
		mkfull("stts", 0, 0, entries(1, be32(3), be32(3000))),
		mkfull("stsc", 0, 0, entries(1, be32(1), be32(3), be32(1))),
		mkfull("stsz", 0, 0, be32(10), be32(3)),
		mkfull("co64", 0, 0, entries(1, be64(36))))
	zeroSizeMoov := cat(be32(0), []byte("moov"), videoTrak(1, nil))
	tests := []struct {
		name   string
		file   []byte
		first  int64
		brand  string
		nTrack int
	}{
		{"moov at end", cat(ftyp, mdat, moov), dataStart, "mp42", 1},
		{"moov at front", cat(ftyp, moov, mdat), dataStart, "mp42", 1},
		{"no ftyp", cat(mkbox("free", make([]byte, 12)), mdat, moov), dataStart, "", 1},
		{"64-bit largesize mdat", cat(ftyp, largeMdat, mkbox("moov", largeTrak)), 36, "mp42", 1},
		{"size-0 last box", cat(ftyp, mdat, zeroSizeMoov), dataStart, "mp42", 1},
		{"size-0 mdat", cat(ftyp, sizeZeroMdatMoov(len(moov)), be32(0), []byte("mdat"), make([]byte, 30)), int64(20 + len(moov) + 8), "mp42", 1},
		{"text track skipped", cat(ftyp, mdat, mkbox("moov", trakBox(7, "text", 1000, mkbox("tx3g", make([]byte, 8)), nil), videoTrak(1, nil))), dataStart, "mp42", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := readBytes(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if f.MajorBrand != tc.brand || len(f.Tracks) != tc.nTrack || f.Fragmented {
				t.Fatalf("brand %q, %d tracks, fragmented %v", f.MajorBrand, len(f.Tracks), f.Fragmented)
			}
			tr := f.Tracks[0]
			if tr.ID != 1 || tr.Kind != KindVideo || tr.Timescale != 90000 || tr.Language != "eng" ||
				tr.Codec != "avc1.64001F" || tr.Width != 320 || tr.Height != 180 {
				t.Fatalf("track %+v", tr)
			}
			if len(tr.Samples) != 3 || tr.Samples[0].Offset != tc.first || tr.Samples[2].DTS != 6000 || tr.Duration() != 9000 {
				t.Fatalf("samples %+v", tr.Samples)
			}
		})
	}
}

// sizeZeroMdatMoov is a moov of moovLen bytes for a file where it follows
// a 20-byte ftyp and precedes a size-0 mdat.
func sizeZeroMdatMoov(moovLen int) []byte {
	return mkbox("moov", trakBox(1, "vide", 90000, avc1Entry(), nil,
		mkfull("stts", 0, 0, entries(1, be32(3), be32(3000))),
		mkfull("stsc", 0, 0, entries(1, be32(1), be32(3), be32(1))),
		mkfull("stsz", 0, 0, be32(10), be32(3)),
		mkfull("stco", 0, 0, entries(1, be32(uint32(20+moovLen+8))))))
}

func TestEditLists(t *testing.T) {
	elst := func(v uint8, es ...[]byte) []byte {
		return mkbox("edts", mkfull("elst", v, 0, entries(len(es), es...)))
	}
	v0 := func(dur uint32, mt int32) []byte { return cat(be32(dur), be32(uint32(mt)), be32(1<<16)) }
	v1 := func(dur uint64, mt int64) []byte { return cat(be64(dur), be64(uint64(mt)), be32(1<<16)) }
	tests := []struct {
		name string
		edts []byte
		want int64
	}{
		{"none", nil, 0},
		{"v0", elst(0, v0(9000, 3000)), 3000},
		{"v0 empty edit first", elst(0, v0(500, -1), v0(9000, 1500)), 1500},
		{"v1", elst(1, v1(9000, 1<<33)), 1 << 33},
		{"v1 empty edit first", elst(1, v1(500, -1), v1(9000, 2000)), 2000},
		{"only empty", elst(0, v0(500, -1)), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := readBytes(progressiveFile(30, videoTrak(1, tc.edts)))
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Tracks[0].EditOffset; got != tc.want {
				t.Fatalf("EditOffset = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestLanguage(t *testing.T) {
	tests := []struct {
		in   uint16
		want string
	}{{0x15c7, "eng"}, {0, "und"}, {0x55c4, "und"}, {0x7fff, "und"}, {0x1a41, "fra"}}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := language(tc.in); got != tc.want {
				t.Fatalf("language(%#x) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestReadFileErrors(t *testing.T) {
	vp09 := trakBox(1, "vide", 90000, visualEntry("vp09", 320, 180, mkbox("vpcC", make([]byte, 12))), nil, simpleTables(3, 10, 3000)...)
	encv := trakBox(2, "vide", 90000, visualEntry("encv", 320, 180, nil), nil, simpleTables(3, 10, 3000)...)
	zeroTS := trakBox(1, "vide", 0, avc1Entry(), nil, simpleTables(3, 10, 3000)...)
	good := progressiveFile(30, videoTrak(1, nil))
	tests := []struct {
		name    string
		file    []byte
		want    error
		message string
	}{
		{"empty", nil, ErrMalformed, "no moov"},
		{"no moov", mkbox("ftyp", []byte("isom")), ErrMalformed, "no moov"},
		{"vp09", progressiveFile(30, vp09), ErrUnsupported, `track 1 codec "vp09"`},
		{"encrypted", progressiveFile(30, encv), ErrUnsupported, `"encv" (encrypted)`},
		{"no tracks", progressiveFile(30), ErrNoTracks, ""},
		{"only text", progressiveFile(30, trakBox(1, "text", 1000, mkbox("tx3g", make([]byte, 8)), nil)), ErrNoTracks, ""},
		{"timescale 0", progressiveFile(30, zeroTS), ErrMalformed, "timescale is 0"},
		{"trailing bytes", cat(good, []byte{1, 2, 3}), ErrMalformed, "trailing"},
		{"truncated", good[:len(good)-1], ErrMalformed, "runs past end of file"},
		{"box smaller than header", cat(good, be32(4), []byte("free")), ErrMalformed, "smaller than its header"},
		{"two moovs", cat(good, mkbox("moov")), ErrMalformed, "second moov"},
		{"child past parent", progressiveFile(30, mkbox("trak", be32(100), []byte("tkhd"))), ErrMalformed, "runs past its parent"},
		{"missing mdia", progressiveFile(30, mkbox("trak", mkfull("tkhd", 0, 0, make([]byte, 80)))), ErrMalformed, "missing mdia"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readBytes(tc.file)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.want, tc.message)
			}
		})
	}
}

func TestUnsupportedKeepsOtherTracks(t *testing.T) {
	vp09 := trakBox(2, "vide", 90000, visualEntry("vp09", 320, 180, nil), nil, simpleTables(3, 10, 3000)...)
	f, err := readBytes(progressiveFile(30, vp09, videoTrak(1, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tracks) != 1 || f.Tracks[0].ID != 1 {
		t.Fatalf("tracks %+v", f.Tracks)
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r     io.ReaderAt
	bytes atomic.Int64
	calls atomic.Int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.bytes.Add(int64(len(p)))
	c.calls.Add(1)
	return c.r.ReadAt(p, off)
}

// hugeMoovFile builds a progressive file whose moov is larger than 50 MB:
// n one-byte samples with one stts and one ctts entry each.
func hugeMoovFile(n int) []byte {
	stts := make([]byte, 0, 8*n)
	ctts := make([]byte, 0, 8*n)
	stsz := make([]byte, 0, 4*n)
	for i := 0; i < n; i++ {
		stts = append(stts, cat(be32(1), be32(uint32(1+i%3)))...)
		ctts = append(ctts, cat(be32(1), be32(uint32(i%5)))...)
		stsz = append(stsz, 0, 0, 0, 1)
	}
	return progressiveFile(n, trakBox(1, "vide", 90000, avc1Entry(), nil,
		mkfull("stts", 0, 0, be32(uint32(n)), stts),
		mkfull("ctts", 0, 0, be32(uint32(n)), ctts),
		mkfull("stsc", 0, 0, entries(1, be32(1), be32(uint32(n)), be32(1))),
		mkfull("stsz", 0, 0, be32(0), be32(uint32(n)), stsz),
		mkfull("stco", 0, 0, entries(1, be32(dataStart)))))
}

func TestHugeMoov(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates about 250 MB")
	}
	const n = 2_700_000
	file := hugeMoovFile(n)
	moovSize := len(file) - dataStart - n
	if moovSize < 50<<20 {
		t.Fatalf("moov is only %d bytes", moovSize)
	}
	cr := &countingReader{r: bytes.NewReader(file)}
	f, err := ReadFile(cr, int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	s := f.Tracks[0].Samples
	if len(s) != n || s[n-1].Offset != int64(dataStart+n-1) || s[n-1].CTO != int32((n-1)%5) {
		t.Fatalf("%d samples, last %+v", len(s), s[len(s)-1])
	}
	if got := cr.bytes.Load(); got > int64(moovSize)+64 {
		t.Fatalf("read %d bytes for a %d byte moov", got, moovSize)
	}
}

func TestMoovLimit(t *testing.T) {
	hdr := cat(be32(1), []byte("moov"), be64(MaxMoovSize+17))
	_, err := ReadFile(&sparseFile{head: hdr, size: MaxMoovSize + 17}, MaxMoovSize+17)
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v, want ErrUnsupported", err)
	}
}

// sparseFile is a large file of zeros behind a short head.
type sparseFile struct {
	head []byte
	size int64
}

func (s *sparseFile) ReadAt(p []byte, off int64) (int, error) {
	for i := range p {
		p[i] = 0
		if o := off + int64(i); o < int64(len(s.head)) {
			p[i] = s.head[o]
		}
	}
	return len(p), nil
}
