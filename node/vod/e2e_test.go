package vod

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/classmesh/classmesh/internal/testmedia"
	"github.com/classmesh/classmesh/node/mp4"
)

func newTestLibrary(t testing.TB, o Origin, cfg Config) *Library {
	t.Helper()
	l, err := New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if err := l.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return l
}

// packageAll returns init + every segment of r, checking each segment's
// size against Segment.Size.
func packageAll(t *testing.T, l *Library, a *Asset, r *Rendition) []byte {
	t.Helper()
	out := append([]byte(nil), r.Init()...)
	for n, s := range r.Segments {
		var buf bytes.Buffer
		if err := l.WriteSegment(context.Background(), a, r, n, &buf); err != nil {
			t.Fatalf("%s segment %d: %v", r.ID, n, err)
		}
		if int64(buf.Len()) != s.Size {
			t.Fatalf("%s segment %d: wrote %d bytes, Size says %d", r.ID, n, buf.Len(), s.Size)
		}
		out = append(out, buf.Bytes()...)
	}
	return out
}

type probeStream struct {
	CodecType    string `json:"codec_type"`
	NbReadFrames string `json:"nb_read_frames"`
	Duration     string `json:"duration"`
}

func ffprobeStreams(t *testing.T, path string) []probeStream {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var p struct {
		Streams []probeStream `json:"streams"`
	}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	return p.Streams
}

// extinfSum adds up the EXTINF values of a media playlist.
func extinfSum(t *testing.T, pl []byte) (float64, int) {
	t.Helper()
	var sum float64
	n := 0
	for _, line := range strings.Split(string(pl), "\n") {
		if v, ok := strings.CutPrefix(line, "#EXTINF:"); ok {
			f, err := strconv.ParseFloat(strings.TrimSuffix(v, ","), 64)
			if err != nil {
				t.Fatalf("bad EXTINF %q", line)
			}
			sum += f
			n++
		}
	}
	return sum, n
}

func TestPackageFixtures(t *testing.T) {
	testmedia.RequireFFmpeg(t)
	for _, name := range testmedia.Names() {
		t.Run(name, func(t *testing.T) {
			o := newMemOrigin()
			o.addFile(t, name, testmedia.Make(t, name))
			l := newTestLibrary(t, o, Config{})
			a, ok := l.Asset(name)
			if !ok || a.Status != StatusReady {
				t.Fatalf("asset %q: ok=%v %+v", name, ok, a)
			}
			for _, r := range a.Renditions {
				t.Run(r.ID, func(t *testing.T) { checkRendition(t, l, a, r) })
			}
		})
	}
}

func checkRendition(t *testing.T, l *Library, a *Asset, r *Rendition) {
	data := packageAll(t, l, a, r)
	if again := packageAll(t, l, a, r); !bytes.Equal(data, again) {
		t.Fatal("packaging twice gave different bytes")
	}
	tr := r.Track
	trackSec := float64(tr.Duration()) / float64(tr.Timescale)
	sum, n := extinfSum(t, r.MediaPlaylist())
	if n != len(r.Segments) || math.Abs(sum-trackSec) > 1e-6*float64(n)+1e-9 {
		t.Errorf("EXTINF: %d entries summing to %f, want %d summing to %f", n, sum, len(r.Segments), trackSec)
	}
	path := filepath.Join(t.TempDir(), "concat.mp4")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	streams := ffprobeStreams(t, path)
	if len(streams) != 1 {
		t.Fatalf("ffprobe sees %d streams", len(streams))
	}
	if frames, _ := strconv.Atoi(streams[0].NbReadFrames); frames != len(tr.Samples) {
		t.Errorf("ffprobe counts %d frames, track has %d samples", frames, len(tr.Samples))
	}
	frame := float64(tr.Samples[0].Duration) / float64(tr.Timescale)
	if d, err := strconv.ParseFloat(streams[0].Duration, 64); err != nil || math.Abs(d-trackSec) > frame+1e-6 {
		t.Errorf("ffprobe duration %q, track lasts %f (frame %f)", streams[0].Duration, trackSec, frame)
	}
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Errorf("ffmpeg decode: %v: %s", err, out)
	}
	if r.Kind == mp4.KindVideo {
		for i, s := range r.Segments {
			if !tr.Samples[s.FirstSample].Sync && i > 0 {
				t.Errorf("segment %d does not start with a sync sample", i)
			}
		}
	}
}
