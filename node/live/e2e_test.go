package live

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/internal/testmedia"
	"github.com/classmesh/classmesh/node/mp4"
	"github.com/classmesh/classmesh/node/origin"
	"github.com/classmesh/classmesh/node/vod"
)

// mediaCall is one stream call made from an MP4 sample.
type mediaCall struct {
	video bool
	ms    int64
	cts   int32
	key   bool
	data  []byte
}

// childBox returns the body of the first child box typ in b.
func childBox(t testing.TB, b []byte, typ string) []byte {
	t.Helper()
	for len(b) >= 8 {
		size := int(binary.BigEndian.Uint32(b))
		if size < 8 || size > len(b) {
			break
		}
		if string(b[4:8]) == typ {
			return b[8:size]
		}
		b = b[size:]
	}
	t.Fatalf("no %s box", typ)
	return nil
}

// descriptor returns the tag and body of the descriptor at the start of b.
func descriptor(b []byte) (byte, []byte, []byte) {
	tag, size, i := b[0], 0, 1
	for ; i < 5; i++ {
		size = size<<7 | int(b[i]&0x7f)
		if b[i]&0x80 == 0 {
			break
		}
	}
	return tag, b[i+1 : i+1+size], b[i+1+size:]
}

// ascOf digs the AudioSpecificConfig out of an mp4a sample entry written
// by ffmpeg (ES_Descriptor without optional fields).
func ascOf(t testing.TB, entry []byte) []byte {
	esds := childBox(t, entry[8+28:], "esds")
	_, es, _ := descriptor(esds[4:])
	_, dcd, _ := descriptor(es[3:])
	_, asc, _ := descriptor(dcd[13:])
	return asc
}

// mediaCalls reads an ffmpeg MP4 and returns the configurations and the
// stream calls an RTMP publisher of it would make, interleaved by time.
func mediaCalls(t testing.TB, path string) (avcC, asc []byte, calls []mediaCall) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := mp4.ReadFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range f.Tracks {
		ts := int64(tr.Timescale)
		video := tr.Kind == mp4.KindVideo
		if video {
			avcC = childBox(t, tr.SampleEntry[8+78:], "avcC")
		} else {
			asc = ascOf(t, tr.SampleEntry)
		}
		for _, s := range tr.Samples {
			c := mediaCall{video: video, ms: s.DTS * 1000 / ts, key: s.Sync, data: b[s.Offset : s.Offset+int64(s.Size)]}
			if video {
				c.cts = int32((int64(s.CTO) - tr.EditOffset) * 1000 / ts)
			}
			calls = append(calls, c)
		}
	}
	sort.SliceStable(calls, func(i, j int) bool { return calls[i].ms < calls[j].ms })
	return avcC, asc, calls
}

// publishCalls sends configurations and calls to p, shifting times by ms.
func publishCalls(t testing.TB, p *Publication, avcC, asc []byte, calls []mediaCall, shift int64) {
	t.Helper()
	if err := p.VideoConfig(avcC); err != nil {
		t.Fatal(err)
	}
	if err := p.AudioConfig(asc); err != nil {
		t.Fatal(err)
	}
	for _, c := range calls {
		var err error
		if c.video {
			err = p.Video(c.ms+shift, c.cts, c.key, c.data)
		} else {
			err = p.Audio(c.ms+shift, c.data)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// runTool runs ffmpeg or ffprobe and fails t when it exits with an error
// or prints anything at the error level.
func runTool(t testing.TB, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, append([]string{"-v", "error"}, args...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// probeDuration returns ffprobe's format duration of url in seconds (the
// end time: fragments starting later count from 0).
func probeDuration(t testing.TB, url string) float64 {
	d, _ := probe(t, url)
	return d
}

// probe returns ffprobe's format duration and start time of url.
func probe(t testing.TB, url string) (float64, float64) {
	t.Helper()
	out := runTool(t, "ffprobe", "-show_format", "-show_streams", "-of", "json", url)
	var v struct {
		Format struct {
			Duration string `json:"duration"`
			Start    string `json:"start_time"`
		} `json:"format"`
		Streams []struct {
			CodecName string `json:"codec_name"`
		} `json:"streams"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Streams) == 0 {
		t.Fatalf("ffprobe %s: no streams", url)
	}
	d, _ := strconv.ParseFloat(v.Format.Duration, 64)
	start, _ := strconv.ParseFloat(v.Format.Start, 64)
	return d, start
}

func TestFFmpegEndToEnd(t *testing.T) {
	testmedia.RequireFFmpeg(t)
	avcC, asc, calls := mediaCalls(t, testmedia.Make(t, "h264-aac"))
	recDir := filepath.Join(t.TempDir(), "rec")
	ended := make(chan Recording, 1)
	m := newTestManager(t, Config{RecordDir: recDir, OnEnd: func(id string, rec Recording) { ended <- rec }})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	p, err := m.Publish("lesson1")
	if err != nil {
		t.Fatal(err)
	}
	publishCalls(t, p, avcC, asc, calls, 0)
	base := srv.URL + "/live/lesson1/"

	// Live: ffprobe reads the media playlist and a part with its init.
	probe(t, base+"video/media.m3u8")
	video := mustTrack(t, p.Session(), RenditionVideo)
	init, _, _ := video.LatestInit()
	part, ok := video.Part(1, 0)
	if !ok {
		t.Fatal("no part 1.0")
	}
	partFile := filepath.Join(t.TempDir(), "part.mp4")
	if err := os.WriteFile(partFile, append(append([]byte(nil), init...), part.Data...), 0o644); err != nil {
		t.Fatal(err)
	}
	if d, start := probe(t, partFile); start < 1.9 || d-start < 0.3 || d-start > 0.5 {
		t.Errorf("init+part 1.0: %v s from %v s, want about 0.47 s from 2 s", d-start, start)
	}
	runTool(t, "ffmpeg", "-i", partFile, "-f", "null", "-")

	p.Close(nil)
	if err := m.End("lesson1"); err != nil {
		t.Fatal(err)
	}
	rec := <-ended
	runTool(t, "ffmpeg", "-i", base+"master.m3u8", "-c", "copy", "-f", "null", "-")
	if d := probeDuration(t, base+"video/media.m3u8"); d < 9.5 || d > 10.5 {
		t.Errorf("ended video playlist: %v s, want 10", d)
	}
	checkRecording(t, rec, recDir, "lesson1", 10)
}

// checkRecording checks the recording's files with ffprobe and ffmpeg and
// opens it as an asset with node/vod.
func checkRecording(t *testing.T, rec Recording, root, id string, seconds float64) {
	t.Helper()
	if rec.Err != nil || rec.Dir != filepath.Join(root, id) || strings.Join(rec.Files, ",") != "video.mp4,audio.mp4" {
		t.Fatalf("recording %+v", rec)
	}
	if d := rec.Duration.Seconds(); d < seconds-0.5 || d > seconds+0.5 {
		t.Errorf("recording duration %v, want %v s", rec.Duration, seconds)
	}
	for _, f := range rec.Files {
		path := filepath.Join(rec.Dir, f)
		if d := probeDuration(t, path); d < seconds-0.5 || d > seconds+0.5 {
			t.Errorf("%s: ffprobe duration %v, want %v", f, d, seconds)
		}
		runTool(t, "ffmpeg", "-i", path, "-f", "null", "-")
	}
	o, err := origin.NewDir(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	lib, err := vod.New(vod.Config{}, o)
	if err != nil {
		t.Fatal(err)
	}
	defer lib.Close()
	if err := lib.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, ok := lib.Asset(id)
	if !ok || a.Status != vod.StatusReady || len(a.Renditions) != 2 {
		t.Fatalf("vod asset: %v %+v", ok, a)
	}
	if d := a.Duration.Seconds(); d < seconds-0.5 || d > seconds+0.5 {
		t.Errorf("vod asset duration %v, want %v s", a.Duration, seconds)
	}
	for _, r := range a.Renditions {
		var buf bytes.Buffer
		if err := lib.WriteSegment(context.Background(), a, r, len(r.Segments)-1, &buf); err != nil {
			t.Errorf("%s: %v", r.ID, err)
		}
	}
}
