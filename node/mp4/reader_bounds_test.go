package mp4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/classmesh/classmesh/internal/testmedia"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name      string
		in        []byte
		typ       string
		hdr, size int
		err       bool
	}{
		{"compact", cat(be32(12), []byte("free"), make([]byte, 4)), "free", 8, 12, false},
		{"largesize", cat(be32(1), []byte("free"), be64(20), make([]byte, 4)), "free", 16, 20, false},
		{"size 0 to end of parent", cat(be32(0), []byte("free"), make([]byte, 10)), "free", 8, 18, false},
		{"uuid", cat(be32(28), []byte("uuid"), make([]byte, 20)), "uuid", 24, 28, false},
		{"short header", []byte{0, 0, 0}, "", 0, 0, true},
		{"short largesize", cat(be32(1), []byte("free"), be32(0)), "", 0, 0, true},
		{"smaller than header", cat(be32(7), []byte("free")), "", 0, 0, true},
		{"largesize smaller than header", cat(be32(1), []byte("free"), be64(15)), "", 0, 0, true},
		{"past parent", cat(be32(100), []byte("free")), "", 0, 0, true},
		{"largesize past parent", cat(be32(1), []byte("free"), be64(1<<63)), "", 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ, hdr, size, err := parseHeader(tc.in, "test")
			if tc.err {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil || typ != tc.typ || hdr != tc.hdr || size != uint64(tc.size) {
				t.Fatalf("parseHeader = %q %d %d %v", typ, hdr, size, err)
			}
		})
	}
}

// rangeReader records every range read.
type rangeReader struct {
	r      io.ReaderAt
	mu     sync.Mutex
	ranges [][2]int64
}

func (rr *rangeReader) ReadAt(p []byte, off int64) (int, error) {
	rr.mu.Lock()
	rr.ranges = append(rr.ranges, [2]int64{off, off + int64(len(p))})
	rr.mu.Unlock()
	return rr.r.ReadAt(p, off)
}

// mdatBodies lists the [start, end) of every top-level mdat payload.
func mdatBodies(t *testing.T, data []byte) [][2]int64 {
	var out [][2]int64
	for off := int64(0); off+8 <= int64(len(data)); {
		size, hdr := int64(binary.BigEndian.Uint32(data[off:])), int64(8)
		if size == 1 {
			size, hdr = int64(binary.BigEndian.Uint64(data[off+8:])), 16
		} else if size == 0 {
			size = int64(len(data)) - off
		}
		if size < hdr {
			t.Fatalf("bad box at %d", off)
		}
		if string(data[off+4:off+8]) == "mdat" {
			out = append(out, [2]int64{off + hdr, off + size})
		}
		off += size
	}
	return out
}

func TestReadsOnlyMetadata(t *testing.T) {
	for _, name := range []string{"h264-aac", "faststart", "fragmented", "gop10"} {
		t.Run(name, func(t *testing.T) {
			data := fixtureBytes(t, name)
			rr := &rangeReader{r: bytes.NewReader(data)}
			if _, err := ReadFile(rr, int64(len(data))); err != nil {
				t.Fatal(err)
			}
			var total int64
			for _, r := range rr.ranges {
				total += r[1] - r[0]
				for _, m := range mdatBodies(t, data) {
					if r[0] < m[1] && m[0] < r[1] {
						t.Fatalf("read [%d,%d) overlaps mdat payload [%d,%d)", r[0], r[1], m[0], m[1])
					}
				}
			}
			if total*20 > int64(len(data)) {
				t.Fatalf("read %d bytes of a %d byte file", total, len(data))
			}
		})
	}
}

// fixtureBytes returns the content of a testmedia fixture.
func fixtureBytes(t testing.TB, name string) []byte {
	t.Helper()
	_, data := readPath(t, testmedia.Make(t, name))
	return data
}

// boxBoundaries returns the offsets where top-level boxes end.
func boxBoundaries(data []byte) map[int64]bool {
	out := map[int64]bool{}
	for off := int64(0); off+8 <= int64(len(data)); {
		size := int64(binary.BigEndian.Uint32(data[off:]))
		if size == 1 {
			size = int64(binary.BigEndian.Uint64(data[off+8:]))
		}
		if size < 8 {
			break
		}
		off += size
		out[off] = true
	}
	return out
}

func TestTruncatedFixtures(t *testing.T) {
	for _, name := range []string{"h264-aac", "faststart", "fragmented", "audio-only"} {
		t.Run(name, func(t *testing.T) {
			data := fixtureBytes(t, name)
			ends := boxBoundaries(data)
			rng := rand.New(rand.NewPCG(1, uint64(len(data))))
			cuts := []int64{0, 1, 7, 8, 9, 15, 16, 17, int64(len(data)) - 1}
			for i := 0; i < 300; i++ {
				cuts = append(cuts, rng.Int64N(int64(len(data))))
			}
			for _, cut := range cuts {
				if ends[cut] {
					continue // a cut between boxes can leave a valid file
				}
				_, err := ReadFile(bytes.NewReader(data[:cut]), cut)
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("cut at %d of %d: err = %v, want ErrMalformed", cut, len(data), err)
				}
			}
		})
	}
}

func TestCorruptedFixtures(t *testing.T) {
	for _, name := range []string{"faststart", "fragmented"} {
		t.Run(name, func(t *testing.T) {
			data := fixtureBytes(t, name)
			rng := rand.New(rand.NewPCG(2, uint64(len(data))))
			limit := min(len(data), 64<<10) // the metadata of both fixtures is near the front
			for i := 0; i < 2000; i++ {
				bad := bytes.Clone(data[:limit])
				for j := 0; j < 1+i%4; j++ {
					bad[rng.IntN(limit)] = byte(rng.Uint32())
				}
				bad = append(bad, data[limit:]...)
				_, err := ReadFile(bytes.NewReader(bad), int64(len(bad)))
				if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrNoTracks) {
					t.Fatalf("corruption %d: error %v wraps no sentinel", i, err)
				}
			}
		})
	}
}

func TestReaderError(t *testing.T) {
	data := progressiveFile(30, videoTrak(1, nil))
	boom := errors.New("disk on fire")
	_, err := ReadFile(failingReader{boom}, int64(len(data)))
	if !errors.Is(err, boom) || errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want the reader's error", err)
	}
}

type failingReader struct{ err error }

func (f failingReader) ReadAt([]byte, int64) (int, error) { return 0, fmt.Errorf("wrapped: %w", f.err) }
