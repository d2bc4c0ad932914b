package live

import (
	"testing"
	"time"
)

func TestCutting(t *testing.T) {
	tests := []struct {
		name      string
		s         stream
		part, seg time.Duration
		wantSeg   time.Duration // every segment but the last
		wantAudio bool
		minSegs   int
	}{
		{"gop 2s", stream{fps: 30, gop: 2 * time.Second, dur: 12 * time.Second, video: true, audio: true}, 500 * time.Millisecond, 2 * time.Second, 2 * time.Second, true, 5},
		{"gop 1s", stream{fps: 25, gop: time.Second, dur: 12 * time.Second, video: true, audio: true}, 500 * time.Millisecond, 2 * time.Second, 2 * time.Second, true, 5},
		{"gop 4s longer than target", stream{fps: 30, gop: 4 * time.Second, dur: 16 * time.Second, video: true, audio: true}, 500 * time.Millisecond, 2 * time.Second, 4 * time.Second, true, 3},
		{"part 1s", stream{fps: 30, gop: 2 * time.Second, dur: 12 * time.Second, video: true, audio: true}, time.Second, 4 * time.Second, 4 * time.Second, true, 2},
		{"part 200ms 60fps", stream{fps: 60, gop: time.Second, dur: 6 * time.Second, video: true, audio: true}, 200 * time.Millisecond, time.Second, time.Second, true, 5},
		{"video only", stream{fps: 30, gop: 2 * time.Second, dur: 8 * time.Second, video: true}, 500 * time.Millisecond, 2 * time.Second, 2 * time.Second, false, 3},
		{"audio only", stream{dur: 8 * time.Second, audio: true}, 500 * time.Millisecond, 2 * time.Second, 2 * time.Second, true, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestManager(t, Config{PartTarget: tt.part, SegmentTarget: tt.seg, DVRWindow: time.Minute, Now: newFakeClock().Now})
			p, err := m.Publish("cut")
			if err != nil {
				t.Fatal(err)
			}
			feed(t, p, tt.s)
			p.Close(nil)
			s := p.Session()
			var video []segment
			if tt.s.video {
				video = segmentsOf(mustTrack(t, s, RenditionVideo))
				checkSegments(t, "video", video, tt.part, tt.wantSeg, tt.minSegs)
			}
			if !tt.wantAudio {
				if _, ok := s.Track(RenditionAudio); ok {
					t.Error("audio track without audio")
				}
				return
			}
			audio := segmentsOf(mustTrack(t, s, RenditionAudio))
			checkSegments(t, "audio", audio, tt.part, tt.wantSeg, tt.minSegs)
			if video != nil {
				checkAligned(t, video, audio)
			}
		})
	}
}

// checkSegments checks durations, numbering and part limits.
func checkSegments(t *testing.T, name string, segs []segment, part, want time.Duration, minSegs int) {
	t.Helper()
	if len(segs) < minSegs {
		t.Fatalf("%s: %d segments, want at least %d", name, len(segs), minSegs)
	}
	tol := 25 * time.Millisecond
	for i, s := range segs {
		if !s.complete || s.gap {
			t.Errorf("%s seg %d: complete=%v gap=%v", name, s.msn, s.complete, s.gap)
		}
		if s.msn != int64(i) {
			t.Errorf("%s: segment %d has msn %d", name, i, s.msn)
		}
		if i < len(segs)-1 && (s.duration < want-tol || s.duration > want+tol) {
			t.Errorf("%s seg %d: duration %v, want %v", name, s.msn, s.duration, want)
		}
		var sum time.Duration
		for j, p := range s.parts {
			sum += p.Duration
			if p.Index != j || p.MSN != s.msn || p.Duration > part || len(p.Data) == 0 {
				t.Errorf("%s part %d.%d: index %d, duration %v (target %v), %d bytes", name, s.msn, j, p.Index, p.Duration, part, len(p.Data))
			}
			if j < len(s.parts)-1 && p.Duration < part*70/100 {
				t.Errorf("%s part %d.%d: %v is short of the %v target", name, s.msn, j, p.Duration, part)
			}
			if p.SegmentEnd != (j == len(s.parts)-1) {
				t.Errorf("%s part %d.%d: SegmentEnd=%v", name, s.msn, j, p.SegmentEnd)
			}
		}
		if !s.parts[0].Independent {
			t.Errorf("%s seg %d does not start independent", name, s.msn)
		}
		if d := sum - s.duration; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("%s seg %d: parts sum to %v, segment %v", name, s.msn, sum, s.duration)
		}
	}
}

// checkAligned checks that audio segments start where video segments do.
func checkAligned(t *testing.T, video, audio []segment) {
	t.Helper()
	if len(audio) != len(video) {
		t.Fatalf("%d audio segments, %d video", len(audio), len(video))
	}
	for i := range video {
		d := audio[i].pdt.Sub(video[i].pdt)
		if d < -25*time.Millisecond || d > 25*time.Millisecond {
			t.Errorf("segment %d: audio starts %v after video", i, d)
		}
	}
}
