package live

import (
	"encoding/hex"
	"math"
	"sort"
	"sync"
	"testing"
	"time"
)

// testAvcC is the AVCDecoderConfigurationRecord of a 320x180 High profile
// x264 stream; testASC is AAC-LC 48 kHz stereo.
var (
	testAvcC, _ = hex.DecodeString("0164000dffe1001a6764000dacd941419f9f0110000003001000000303c0f142996001000468ef8fcbfdf8f800")
	testASC     = []byte{0x11, 0x90}
)

// fakeClock is an injectable wall clock that tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestManager(t testing.TB, cfg Config) *Manager {
	t.Helper()
	m, err := NewManager(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// stream describes synthetic input: video at fps with a key frame every
// gop, AAC frames at 48 kHz, both for dur, starting at start ms.
type stream struct {
	fps   float64
	gop   time.Duration
	dur   time.Duration
	start int64
	audio bool
	video bool
}

// frame is one synthetic input call.
type frame struct {
	video bool
	ms    int64
	key   bool
}

// frames returns the stream's calls interleaved by time, as an RTMP
// publisher would send them.
func (s stream) frames() []frame {
	var out []frame
	if s.video {
		n := int(math.Round(s.dur.Seconds() * s.fps))
		perGOP := int(math.Round(s.gop.Seconds() * s.fps))
		for i := range n {
			out = append(out, frame{video: true, ms: s.start + int64(math.Round(float64(i)*1000/s.fps)), key: i%perGOP == 0})
		}
	}
	if s.audio {
		n := int(s.dur.Seconds() * 48000 / 1024)
		for i := range n {
			out = append(out, frame{ms: s.start + int64(math.Round(float64(i)*1024*1000/48000))})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ms < out[j].ms })
	return out
}

// feed sends the stream to p (configs first) and fails t on any error.
func feed(t testing.TB, p *Publication, s stream) {
	t.Helper()
	if s.video {
		if err := p.VideoConfig(testAvcC); err != nil {
			t.Fatal(err)
		}
	}
	if s.audio {
		if err := p.AudioConfig(testASC); err != nil {
			t.Fatal(err)
		}
	}
	sendFrames(t, p, s.frames())
}

func sendFrames(t testing.TB, p *Publication, frames []frame) {
	t.Helper()
	vdata, adata := make([]byte, 1200), make([]byte, 200)
	for _, f := range frames {
		var err error
		if f.video {
			err = p.Video(f.ms, 0, f.key, vdata)
		} else {
			err = p.Audio(f.ms, adata)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// segmentsOf returns a copy of a track's listed segments.
func segmentsOf(tr *Track) []segment {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := make([]segment, len(tr.segs))
	for i, s := range tr.segs {
		out[i] = *s
	}
	return out
}

func mustTrack(t testing.TB, s *Session, name string) *Track {
	t.Helper()
	tr, ok := s.Track(name)
	if !ok {
		t.Fatalf("no %s track", name)
	}
	return tr
}
