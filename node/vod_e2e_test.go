package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/classmesh/classmesh/node/vod"
)

// probeResult is the part of ffprobe's JSON the tests read.
type probeResult struct {
	Streams []struct {
		CodecType    string `json:"codec_type"`
		CodecName    string `json:"codec_name"`
		NbReadFrames string `json:"nb_read_frames"`
		Duration     string `json:"duration"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

func ffprobe(t testing.TB, path string) probeResult {
	t.Helper()
	bin := requireTool(t, "ffprobe")
	out, err := exec.Command(bin, "-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var pr probeResult
	if err := json.Unmarshal(out, &pr); err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	return pr
}

// checkRenditionDecodes downloads init and every segment of a rendition over
// HTTP, concatenates them and lets ffprobe decode the result: the frame
// count must equal the source track's sample count and the duration must
// match within one frame.
func checkRenditionDecodes(t *testing.T, n *Node, a *vod.Asset, r *vod.Rendition) {
	t.Helper()
	base := fmt.Sprintf("%s/v/%s/%s/", n.URL(), a.ID, r.ID)
	var all bytes.Buffer
	init := get(t, base+"init.mp4")
	if init.code != 200 {
		t.Fatalf("init.mp4: %d %s", init.code, init.body)
	}
	all.Write(init.body)
	pl := get(t, base+"media.m3u8")
	if pl.code != 200 {
		t.Fatalf("media.m3u8: %d %s", pl.code, pl.body)
	}
	var extinf float64
	segs := 0
	for _, line := range strings.Split(string(pl.body), "\n") {
		if v, ok := strings.CutPrefix(line, "#EXTINF:"); ok {
			f, err := strconv.ParseFloat(strings.TrimSuffix(v, ","), 64)
			if err != nil {
				t.Fatalf("bad EXTINF %q", line)
			}
			extinf += f
		}
		if strings.HasPrefix(line, "seg-") {
			seg := get(t, base+line)
			if seg.code != 200 {
				t.Fatalf("%s: %d %s", line, seg.code, seg.body)
			}
			all.Write(seg.body)
			segs++
		}
	}
	if segs != len(r.Segments) || segs == 0 {
		t.Fatalf("playlist lists %d segments, rendition has %d", segs, len(r.Segments))
	}
	path := filepath.Join(t.TempDir(), r.ID+".mp4")
	if err := os.WriteFile(path, all.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	pr := ffprobe(t, path)
	if len(pr.Streams) != 1 {
		t.Fatalf("ffprobe sees %d streams, want 1", len(pr.Streams))
	}
	frames, _ := strconv.Atoi(pr.Streams[0].NbReadFrames)
	if want := len(r.Track.Samples); frames != want {
		t.Errorf("%s/%s: ffprobe decoded %d frames, source has %d samples", a.ID, r.ID, frames, want)
	}
	trackDur := float64(r.Track.Duration()) / float64(r.Track.Timescale)
	frame := float64(r.Track.Samples[0].Duration) / float64(r.Track.Timescale)
	if math.Abs(extinf-trackDur) > 0.001 {
		t.Errorf("%s/%s: EXTINF sum %.6f, track duration %.6f", a.ID, r.ID, extinf, trackDur)
	}
	if d, err := strconv.ParseFloat(pr.Format.Duration, 64); err != nil || math.Abs(d-trackDur) > frame+0.001 {
		t.Errorf("%s/%s: ffprobe duration %q, track duration %.6f", a.ID, r.ID, pr.Format.Duration, trackDur)
	}
}

// ffmpegReadsStream reads the whole stream the way a real client does and
// fails on any error ffmpeg reports.
func ffmpegReadsStream(t *testing.T, url string) {
	t.Helper()
	bin := requireTool(t, "ffmpeg")
	cmd := exec.Command(bin, "-nostdin", "-v", "error", "-i", url, "-map", "0", "-c", "copy", "-f", "null", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg -i %s: %v\n%s", url, err, stderr.String())
	}
}

func TestDemoPlaysInRealClients(t *testing.T) {
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	a, ok := n.Library().Asset("demo")
	if !ok || a.Status != vod.StatusReady {
		t.Fatalf("demo asset: ok=%v %+v", ok, a)
	}
	video := 0
	for _, r := range a.Renditions {
		if r.Kind.String() == "video" {
			video++
		}
	}
	if video < 3 {
		t.Fatalf("demo has %d video renditions, want >= 3", video)
	}
	for _, r := range a.Renditions {
		t.Run(r.ID, func(t *testing.T) { checkRenditionDecodes(t, n, a, r) })
	}
	t.Run("ffmpeg", func(t *testing.T) { ffmpegReadsStream(t, n.URL()+"/v/demo/master.m3u8") })
}
