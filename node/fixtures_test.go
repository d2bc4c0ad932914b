package node

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/classmesh/classmesh/internal/testmedia"
	"github.com/classmesh/classmesh/node/vod"
)

// copyFile copies src to dst (hard link when possible).
func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Link(src, dst) == nil {
		return
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// copyDemo copies the demo asset into a fresh library and returns it.
func copyDemo(t testing.TB) string {
	t.Helper()
	lib := t.TempDir()
	src := filepath.Join(demoDir(t), "demo")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		copyFile(t, filepath.Join(src, e.Name()), filepath.Join(lib, "demo", e.Name()))
	}
	return lib
}

// fixtureNames are the ffmpeg-made inputs every media path must handle.
var fixtureNames = []string{
	"h264-aac",   // B-frames, moov at the end
	"faststart",  // moov at the front
	"fragmented", // moof/traf/trun input
	"audio-only",
	"video-only",
	"hevc",
	"gop10", // 10 s GOP with a 6 s target
	"editlist",
	"two-audio",
	"no-bframes",
}

func TestFixturesPackageAndPlay(t *testing.T) {
	media := t.TempDir()
	for _, name := range fixtureNames {
		copyFile(t, testmedia.Make(t, name), filepath.Join(media, name+".mp4"))
	}
	n := mustNewNode(t, Config{MediaDir: media})
	for _, name := range fixtureNames {
		t.Run(name, func(t *testing.T) {
			a, ok := n.Library().Asset(name)
			if !ok {
				t.Fatalf("asset %q not found", name)
			}
			if a.Status != vod.StatusReady {
				t.Fatalf("asset %q: %s: %s", name, a.Status, a.Reason)
			}
			for _, r := range a.Renditions {
				t.Run(r.ID, func(t *testing.T) { checkRenditionDecodes(t, n, a, r) })
			}
			ffmpegReadsStream(t, fmt.Sprintf("%s/v/%s/master.m3u8", n.URL(), name))
		})
	}
}

func TestGOPLongerThanTargetMakesLongerSegments(t *testing.T) {
	media := t.TempDir()
	copyFile(t, testmedia.Make(t, "gop10"), filepath.Join(media, "gop10.mp4"))
	n := mustNewNode(t, Config{MediaDir: media})
	a, _ := n.Library().Asset("gop10")
	for _, r := range a.Renditions {
		if r.Kind.String() != "video" {
			continue
		}
		for _, s := range r.Segments {
			if s.SampleCount == 0 {
				t.Fatalf("empty segment %d", s.Number)
			}
			first := r.Track.Samples[s.FirstSample]
			if !first.Sync {
				t.Fatalf("segment %d starts on a non-keyframe", s.Number)
			}
		}
		if len(r.Segments) != 2 {
			t.Errorf("20 s with a keyframe every 10 s: %d segments, want 2", len(r.Segments))
		}
	}
}
