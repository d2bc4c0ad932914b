package vod

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/classmesh/classmesh/internal/testmedia"
	"github.com/classmesh/classmesh/node/origin"
)

// fileOrigin serves one local file as a one-asset library.
type fileOrigin struct{ path string }

func (o fileOrigin) List(context.Context) ([]origin.AssetSpec, error) {
	return []origin.AssetSpec{{ID: "bench", Files: []string{"bench/720p.mp4"}}}, nil
}

func (o fileOrigin) Open(context.Context, string) (origin.Object, error) {
	f, err := os.Open(o.path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return fileObject{f, st.Size(), fmt.Sprintf("%d-%d", st.Size(), st.ModTime().UnixNano())}, nil
}

func (o fileOrigin) String() string { return "file:" + o.path }

type fileObject struct {
	*os.File
	size int64
	id   string
}

func (f fileObject) Size() int64      { return f.size }
func (f fileObject) Identity() string { return f.id }

// BenchmarkWriteSegment packages 6 s segments of a 720p H.264 + AAC file
// read from local disk; bytes/op is the segment size.
func BenchmarkWriteSegment(b *testing.B) {
	testmedia.RequireFFmpeg(b)
	path := filepath.Join(b.TempDir(), "720p.mp4")
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error",
		"-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=12",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=12",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-b:v", "3M", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-threads", "1", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("ffmpeg: %v: %s", err, out)
	}
	l := newTestLibrary(b, fileOrigin{path}, Config{})
	a, _ := l.Asset("bench")
	if a.Status != StatusReady {
		b.Fatalf("asset failed: %s", a.Reason)
	}
	r := a.Renditions[0]
	b.SetBytes(r.Segments[0].Size)
	b.ReportAllocs()
	for b.Loop() {
		if err := l.WriteSegment(context.Background(), a, r, 0, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBoundaries segments an hour of 30 fps video with 2 s GOPs.
func BenchmarkBoundaries(b *testing.B) {
	tr := videoTrack(15360, 512, 108000, every(60, 108000)...)
	b.ReportAllocs()
	for b.Loop() {
		Boundaries(tr, DefaultSegmentTarget)
	}
}
