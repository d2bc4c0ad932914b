package live

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/internal/testmedia"
	"github.com/classmesh/classmesh/node/rtmp"
)

func TestReconnectWithinGrace(t *testing.T) {
	testmedia.RequireFFmpeg(t)
	avcC, asc, calls := mediaCalls(t, testmedia.Make(t, "h264-aac"))
	root := filepath.Join(t.TempDir(), "rec")
	ended := make(chan Recording, 2)
	m := newTestManager(t, Config{RecordDir: root, Grace: time.Minute, OnEnd: func(_ string, r Recording) { ended <- r }})

	p1, err := m.Publish("lesson2")
	if err != nil {
		t.Fatal(err)
	}
	publishCalls(t, p1, avcC, asc, calls, 0)
	if _, err := m.Publish("lesson2"); !errors.Is(err, ErrAlreadyPublishing) {
		t.Fatalf("second publisher: %v", err)
	}
	p1.Close(errors.New("connection reset"))
	if err := p1.Video(0, 0, true, []byte{1}); !errors.Is(err, ErrClosed) {
		t.Errorf("Video after Close: %v", err)
	}
	p2, err := m.Publish("lesson2")
	if err != nil {
		t.Fatal(err)
	}
	if p2.Session() != p1.Session() {
		t.Fatal("reconnect made a new session")
	}
	publishCalls(t, p2, avcC, asc, calls, 0) // the encoder restarts at 0
	p2.Close(nil)
	if err := m.End("lesson2"); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{RenditionVideo, RenditionAudio} {
		segs := segmentsOf(mustTrack(t, p2.Session(), name))
		if len(segs) != 10 {
			t.Fatalf("%s: %d segments, want 10", name, len(segs))
		}
		for i, s := range segs {
			wantDisc := i == 5
			if s.msn != int64(i) || s.disc != wantDisc || s.discSeq != int64(i/5) {
				t.Errorf("%s seg %d: msn %d disc %v discSeq %d", name, i, s.msn, s.disc, s.discSeq)
			}
			if i > 0 && !s.pdt.After(segs[i-1].pdt) {
				t.Errorf("%s seg %d: PDT %v not after %v", name, i, s.pdt, segs[i-1].pdt)
			}
		}
		if tfdt(t, segs[5].parts[0].Data) <= tfdt(t, segs[4].parts[len(segs[4].parts)-1].Data) {
			t.Errorf("%s: decode time went back at the reconnect", name)
		}
	}
	pl := get(t, m.Handler(), "/live/lesson2/video/media.m3u8").Body.String()
	if strings.Count(pl, "#EXT-X-DISCONTINUITY\n") != 1 {
		t.Errorf("want one EXT-X-DISCONTINUITY:\n%s", pl)
	}
	rec := <-ended
	select {
	case r := <-ended:
		t.Errorf("OnEnd called twice: %+v", r)
	default:
	}
	checkRecording(t, rec, root, "lesson2", 20)
}

// tfdt returns the baseMediaDecodeTime of a part.
func tfdt(t testing.TB, part []byte) uint64 {
	i := bytes.Index(part, []byte("tfdt"))
	if i < 0 || len(part) < i+16 {
		t.Fatal("part without tfdt")
	}
	return binary.BigEndian.Uint64(part[i+8:])
}

func TestGraceExpires(t *testing.T) {
	root := t.TempDir()
	ended := make(chan string, 2)
	m := newTestManager(t, Config{RecordDir: root, Grace: 50 * time.Millisecond, OnEnd: func(id string, r Recording) { ended <- r.Dir }})
	p, err := m.Publish("x")
	if err != nil {
		t.Fatal(err)
	}
	feed(t, p, stream{fps: 30, gop: time.Second, dur: 3 * time.Second, video: true, audio: true})
	p.Close(nil)
	select {
	case dir := <-ended:
		if dir != filepath.Join(root, "x") {
			t.Errorf("recording dir %s", dir)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("session did not end after the grace window")
	}
	if !p.Session().Ended() || !mustTrack(t, p.Session(), RenditionVideo).Ended() {
		t.Error("session or track not ended")
	}
	// Publishing again starts a new session with a new recording.
	p2, err := m.Publish("x")
	if err != nil {
		t.Fatal(err)
	}
	if p2.Session() == p.Session() {
		t.Error("ended session reused")
	}
	if err := m.End("x"); err != nil {
		t.Fatal(err)
	}
	if dir := <-ended; dir != filepath.Join(root, "x-2") {
		t.Errorf("second recording in %s", dir)
	}
	if _, err := m.Publish("../x"); !errors.Is(err, ErrBadSessionID) {
		t.Errorf("bad id: %v", err)
	}
}

func TestTimestampJumps(t *testing.T) {
	base := stream{fps: 30, gop: time.Second, dur: 6 * time.Second, video: true, audio: true}
	shifted := func(s stream, start int64) []frame { s.start = start; return s.frames() }
	wrap := func(fs []frame) []frame {
		for i := range fs {
			fs[i].ms = int64(uint32(fs[i].ms))
		}
		return fs
	}
	tests := []struct {
		name  string
		input []frame
		discs int
	}{
		{"rollover", wrap(shifted(base, 1<<32-3000)), 0},
		{"backwards", append(shifted(base, 50000), shifted(base, 0)...), 1},
		{"forward 60 s", append(shifted(base, 0), shifted(base, 66000)...), 1},
		{"forward 2 s is a gap", append(shifted(base, 0), shifted(base, 8000)...), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestManager(t, Config{SegmentTarget: time.Second})
			p, err := m.Publish("j")
			if err != nil {
				t.Fatal(err)
			}
			if err := p.VideoConfig(testAvcC); err != nil {
				t.Fatal(err)
			}
			if err := p.AudioConfig(testASC); err != nil {
				t.Fatal(err)
			}
			sendFrames(t, p, tt.input)
			p.Close(nil)
			for _, name := range []string{RenditionVideo, RenditionAudio} {
				segs := segmentsOf(mustTrack(t, p.Session(), name))
				discs := 0
				var last uint64
				for i, s := range segs {
					if s.disc {
						discs++
					}
					for _, part := range s.parts {
						if d := tfdt(t, part.Data); i > 0 && d <= last {
							t.Fatalf("%s seg %d: tfdt %d after %d", name, s.msn, d, last)
						} else {
							last = d
						}
					}
					if s.duration > 3*time.Second {
						t.Errorf("%s seg %d lasts %v", name, s.msn, s.duration)
					}
				}
				if discs != tt.discs {
					t.Errorf("%s: %d discontinuities, want %d", name, discs, tt.discs)
				}
			}
		})
	}
}

func TestConfigChangeNewInit(t *testing.T) {
	root := t.TempDir()
	ended := make(chan Recording, 1)
	m := newTestManager(t, Config{RecordDir: root, OnEnd: func(_ string, r Recording) { ended <- r }})
	p, err := m.Publish("c")
	if err != nil {
		t.Fatal(err)
	}
	feed(t, p, stream{fps: 30, gop: 2 * time.Second, dur: 4 * time.Second, video: true, audio: true})
	other := bytes.Clone(testAvcC)
	other[3], other[11] = 0x1f, 0x1f // level 3.1 in the record and its SPS
	if err := p.VideoConfig(other); err != nil {
		t.Fatal(err)
	}
	sendFrames(t, p, stream{fps: 30, gop: 2 * time.Second, dur: 4 * time.Second, start: 4000, video: true, audio: true}.frames())
	if err := m.End("c"); err != nil {
		t.Fatal(err)
	}
	segs := segmentsOf(mustTrack(t, p.Session(), RenditionVideo))
	if len(segs) != 4 || segs[2].initID == segs[1].initID || !segs[2].disc || segs[3].initID != segs[2].initID {
		t.Fatalf("segments around the change: %d, init %08x -> %08x disc %v", len(segs), segs[1].initID, segs[2].initID, segs[2].disc)
	}
	pl := get(t, m.Handler(), "/live/c/video/media.m3u8").Body.String()
	if strings.Count(pl, "#EXT-X-MAP:") != 2 {
		t.Errorf("want two EXT-X-MAP:\n%s", pl)
	}
	rec := <-ended
	if strings.Join(rec.Files, ",") != "video.mp4,audio.mp4,video-2.mp4" {
		t.Errorf("recording files %v", rec.Files)
	}
	for _, f := range rec.Files {
		if fi, err := os.Stat(filepath.Join(rec.Dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// relay copies a track's init and listed parts into dst the way the QUIC
// relay does: header bytes and payload, in the given order.
func relay(t testing.TB, src, dst *Track, order func([]Part)) {
	t.Helper()
	init, _, _ := src.LatestInit()
	if err := dst.PutInit(init); err != nil {
		t.Fatal(err)
	}
	var parts []Part
	for _, s := range segmentsOf(src) {
		parts = append(parts, s.parts...)
	}
	if order != nil {
		order(parts)
	}
	for _, p := range parts {
		q, err := UnmarshalPartHeader(MarshalPartHeader(p))
		if err != nil {
			t.Fatal(err)
		}
		q.Data = p.Data
		if err := dst.PutPart(q); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRemoteSessionReproducesPlaylists(t *testing.T) {
	origin, _ := goldenSession(t)
	src, _ := origin.Lookup("class1")
	orders := map[string]func([]Part){
		"in order": nil,
		"pairs swapped": func(ps []Part) {
			for i := 0; i+1 < len(ps); i += 2 {
				ps[i], ps[i+1] = ps[i+1], ps[i]
			}
		},
		"shuffled in windows of 4": func(ps []Part) {
			r := rand.New(rand.NewPCG(1, 2))
			for i := 0; i < len(ps); i += 4 {
				w := ps[i:min(i+4, len(ps))]
				r.Shuffle(len(w), func(a, b int) { w[a], w[b] = w[b], w[a] })
			}
		},
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			edge := newTestManager(t, Config{Now: newFakeClock().Now})
			s, err := edge.Remote("class1")
			if err != nil {
				t.Fatal(err)
			}
			for _, rendition := range []string{RenditionVideo, RenditionAudio} {
				dst, err := s.AddTrack(rendition)
				if err != nil {
					t.Fatal(err)
				}
				relay(t, mustTrack(t, src, rendition), dst, order)
			}
			for _, path := range []string{"/live/class1/master.m3u8", "/live/class1/video/media.m3u8",
				"/live/class1/audio/media.m3u8", "/live/class1/video/media.m3u8?_HLS_skip=YES", "/live/class1/video/seg-3.m4s"} {
				want, got := get(t, origin.Handler(), path).Body.String(), get(t, edge.Handler(), path).Body.String()
				if got != want {
					t.Errorf("%s differs on the edge:\n%s\n--- origin:\n%s", path, got, want)
				}
			}
		})
	}
	edge := newTestManager(t, Config{})
	if _, err := origin.Remote("class1"); !errors.Is(err, ErrLocal) {
		t.Errorf("Remote of a published session: %v", err)
	}
	s, _ := edge.Remote("class1")
	if _, err := edge.Publish("class1"); !errors.Is(err, ErrRemote) {
		t.Errorf("Publish of a relayed session: %v", err)
	}
	if _, err := s.AddTrack("subtitles"); err == nil {
		t.Error("unknown rendition accepted")
	}
}

func TestRemoteLostPartBecomesGap(t *testing.T) {
	origin, _ := goldenSession(t)
	src, _ := origin.Lookup("class1")
	clock := newFakeClock()
	edge := newTestManager(t, Config{Now: clock.Now})
	s, _ := edge.Remote("class1")
	dst, _ := s.AddTrack(RenditionVideo)
	relay(t, mustTrack(t, src, RenditionVideo), dst, func(ps []Part) {
		for i, p := range ps {
			if p.MSN == 2 && p.Index == 1 {
				copy(ps[i:], ps[i+1:])
				ps[len(ps)-1] = ps[len(ps)-2] // a duplicate, ignored
				break
			}
		}
	})
	if m, _, _ := dst.Last(); m != 2 {
		t.Fatalf("listed up to segment %d before the gap timeout, want 2", m)
	}
	clock.Add(10 * time.Second)
	last, _ := mustTrack(t, src, RenditionVideo).Part(9, 3)
	q, _ := UnmarshalPartHeader(MarshalPartHeader(last))
	q.Data = last.Data
	if err := dst.PutPart(q); err != nil { // any arrival re-checks the hole
		t.Fatal(err)
	}
	if m, p, _ := dst.Last(); m != 9 || p != 3 {
		t.Fatalf("after the gap timeout listed up to %d.%d, want 9.3", m, p)
	}
	pl := get(t, edge.Handler(), "/live/class1/video/media.m3u8").Body.String()
	if !strings.Contains(pl, "#EXT-X-GAP\n#EXTINF:2,\nseg-2.m4s\n") {
		t.Errorf("segment 2 not a gap:\n%s", pl)
	}
	if c := get(t, edge.Handler(), "/live/class1/video/seg-2.m4s").Code; c != 404 {
		t.Errorf("gap segment: %d", c)
	}
}

// Publication is what node/rtmp drives.
var _ rtmp.Stream = (*Publication)(nil)
