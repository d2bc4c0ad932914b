package rtmp

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ffmpegPublish runs ffmpeg publishing a test pattern with a tone for
// secs seconds to url; extra replaces the default codec options.
func ffmpegPublish(t *testing.T, url string, secs int, extra ...string) ([]byte, error) {
	t.Helper()
	bin := needTool(t, "ffmpeg")
	if extra == nil {
		extra = []string{"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "50", "-c:a", "aac"}
	}
	args := []string{"-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"}
	args = append(append(args, extra...), "-t", strconv.Itoa(secs), "-f", "flv", url)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs)*time.Second+waitFor)
	defer cancel()
	return exec.CommandContext(ctx, bin, args...).CombinedOutput()
}

func rtmpURL(s *Server, key string) string {
	return fmt.Sprintf("rtmp://%s/live/%s", s.Addr(), key)
}

func TestFFmpegPublish(t *testing.T) {
	p := newRecPublisher("class1")
	s, logs := testServer(t, Config{}, p)
	if out, err := ffmpegPublish(t, rtmpURL(s, "class1?session=9"), 4); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	st := p.waitStream(t, 0)
	if err := st.waitClosed(t); err != nil {
		t.Fatalf("Close(%v), want nil", err)
	}
	logs.waitLog(t, "reason=clean")
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.req.Key != "class1" || len(st.closes) != 1 {
		t.Fatalf("key %q, %d closes", st.req.Key, len(st.closes))
	}
	if len(st.avcC) == 0 || len(st.asc) == 0 {
		t.Fatalf("%d avcC, %d asc", len(st.avcC), len(st.asc))
	}
	if n := len(st.video); n < 98 || n > 102 {
		t.Fatalf("%d video frames, want about 100", n)
	}
	var keys []int
	for i, v := range st.video {
		if v.key {
			keys = append(keys, i)
		}
		if i > 0 && v.dts <= st.video[i-1].dts {
			t.Fatalf("frame %d: dts %d after %d", i, v.dts, st.video[i-1].dts)
		}
		if _, err := nalusTo4(v.data, 4); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if len(keys) < 2 || keys[0] != 0 || keys[1] != 50 {
		t.Fatalf("keyframes at %v, want 0, 50, ...", keys)
	}
	// 4 s of 48 kHz audio in 1024-sample frames.
	if n := len(st.audio); n < 180 || n > 192 {
		t.Fatalf("%d audio frames, want about 188", n)
	}
	for i := 1; i < len(st.audio); i++ {
		if st.audio[i].pts < st.audio[i-1].pts {
			t.Fatalf("audio %d: pts %d after %d", i, st.audio[i].pts, st.audio[i-1].pts)
		}
	}
	probeVideo(t, st.avcC[0], st.video)
	probeAudio(t, st.asc[0], st.audio)
}

// probeVideo writes the access units as an Annex B stream and has ffprobe
// decode and count them.
func probeVideo(t *testing.T, avcC []byte, frames []recVideo) {
	t.Helper()
	var es bytes.Buffer
	start := []byte{0, 0, 0, 1}
	sps, pps := avcParamSets(avcC)
	for _, ps := range [][]byte{sps, pps} {
		es.Write(start)
		es.Write(ps)
	}
	for _, f := range frames {
		for b := f.data; len(b) > 4; {
			n := binary.BigEndian.Uint32(b)
			es.Write(start)
			es.Write(b[4 : 4+n])
			b = b[4+n:]
		}
	}
	got := ffprobeCount(t, "h264", "video", es.Bytes())
	if got != len(frames) {
		t.Fatalf("ffprobe decoded %d frames of %d", got, len(frames))
	}
}

// avcParamSets returns the first SPS and PPS of a valid record.
func avcParamSets(rec []byte) (sps, pps []byte) {
	n := int(binary.BigEndian.Uint16(rec[6:]))
	sps = rec[8 : 8+n]
	pos := 8 + n + 1
	m := int(binary.BigEndian.Uint16(rec[pos:]))
	return sps, rec[pos+2 : pos+2+m]
}

// probeAudio wraps the frames in ADTS headers and has ffprobe count them.
func probeAudio(t *testing.T, asc []byte, frames []recAudio) {
	t.Helper()
	profile := asc[0]>>3 - 1
	freq := (asc[0]&7)<<1 | asc[1]>>7
	ch := (asc[1] >> 3) & 0xf
	var es bytes.Buffer
	for _, f := range frames {
		n := len(f.data) + 7
		es.Write([]byte{0xff, 0xf1, profile<<6 | freq<<2 | ch>>2, (ch&3)<<6 | byte(n>>11),
			byte(n >> 3), byte(n&7)<<5 | 0x1f, 0xfc})
		es.Write(f.data)
	}
	if got := ffprobeCount(t, "aac", "audio", es.Bytes()); got != len(frames) {
		t.Fatalf("ffprobe decoded %d audio frames of %d", got, len(frames))
	}
}

// ffprobeCount decodes an elementary stream and returns the frame count.
func ffprobeCount(t *testing.T, format, kind string, es []byte) int {
	t.Helper()
	bin := needTool(t, "ffprobe")
	path := filepath.Join(t.TempDir(), "es."+format)
	if err := os.WriteFile(path, es, 0o644); err != nil {
		t.Fatal(err)
	}
	sel := map[string]string{"video": "v:0", "audio": "a:0"}[kind]
	out, err := exec.Command(bin, "-v", "error", "-f", format, "-count_frames", "-select_streams", sel,
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("ffprobe output %q", out)
	}
	return n
}

func TestFFmpegRefused(t *testing.T) {
	p := newRecPublisher("taken")
	s, logs := testServer(t, Config{}, p)
	if out, err := ffmpegPublish(t, rtmpURL(s, "wrong"), 2); err == nil {
		t.Fatalf("ffmpeg published to an unknown key:\n%s", out)
	}
	logs.waitLog(t, "reason=refused", "unknown stream key")
	c := dialClient(t, s.Addr())
	c.mustPublish("taken")
	if out, err := ffmpegPublish(t, rtmpURL(s, "taken"), 2); err == nil {
		t.Fatalf("ffmpeg published to a key already live:\n%s", out)
	}
	logs.waitLog(t, "already publishing")
	refused := p.refusals()
	if len(refused) != 2 {
		t.Fatalf("publisher saw %d refusals: %v", len(refused), refused)
	}
}

func TestFFmpegUnsupportedCodec(t *testing.T) {
	p := newRecPublisher("k")
	s, logs := testServer(t, Config{}, p)
	cases := []struct {
		name  string
		codec []string
		log   string
	}{
		{"sorenson video", []string{"-c:v", "flv1", "-c:a", "aac"}, "unsupported video codec 2"},
		{"mp3 audio", []string{"-c:v", "libx264", "-preset", "ultrafast", "-c:a", "libmp3lame"}, "unsupported audio codec 2"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ffmpegPublish(t, rtmpURL(s, "k"), 1, tc.codec...) // its exit status depends on timing
			logs.waitLog(t, tc.log)
			if err := p.waitStream(t, i).waitClosed(t); err == nil {
				t.Fatal("stream closed with nil")
			}
		})
	}
	publishGood(t, s, p, len(cases), "k")
}
