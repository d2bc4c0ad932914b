package vod

import (
	"testing"
	"time"

	"github.com/classmesh/classmesh/node/mp4"
)

// videoTrack builds a constant-frame-rate video track of n frames at
// timescale ts with frame duration dur; keyframes lists the sync sample
// indexes.
func videoTrack(ts uint32, dur uint32, n int, keyframes ...int) *mp4.Track {
	t := &mp4.Track{ID: 1, Kind: mp4.KindVideo, Timescale: ts, Format: "avc1", Codec: "avc1.64001F", Width: 320, Height: 180}
	key := map[int]bool{}
	for _, k := range keyframes {
		key[k] = true
	}
	var off int64 = 1000
	for i := 0; i < n; i++ {
		size := uint32(100 + i%7)
		if key[i] {
			size = 1000
		}
		t.Samples = append(t.Samples, mp4.Sample{Offset: off, DTS: int64(i) * int64(dur), Size: size, Duration: dur, Sync: key[i]})
		off += int64(size)
	}
	return t
}

// every returns 0, step, 2*step, ... below n.
func every(step, n int) []int {
	var out []int
	for i := 0; i < n; i += step {
		out = append(out, i)
	}
	return out
}

// audioTrack builds an AAC-like track: 1024-tick frames at ts Hz.
func audioTrack(ts uint32, n int) *mp4.Track {
	t := &mp4.Track{ID: 2, Kind: mp4.KindAudio, Timescale: ts, Format: "mp4a", Codec: "mp4a.40.2", SampleRate: ts, Channels: 2}
	for i := 0; i < n; i++ {
		t.Samples = append(t.Samples, mp4.Sample{Offset: int64(50000 + i*300), DTS: int64(i) * 1024, Size: 300, Duration: 1024, Sync: true})
	}
	return t
}

type segShape struct {
	first, count int
	dur          int64
}

func shapes(segs []Segment) []segShape {
	out := make([]segShape, len(segs))
	for i, s := range segs {
		out[i] = segShape{s.FirstSample, s.SampleCount, s.Duration}
	}
	return out
}

func checkSegments(t *testing.T, tr *mp4.Track, segs []Segment) {
	t.Helper()
	next := 0
	var total int64
	for i, s := range segs {
		if s.Number != i || s.FirstSample != next || s.SampleCount <= 0 {
			t.Fatalf("segment %d: %+v (next sample %d)", i, s, next)
		}
		if s.StartDTS != tr.Samples[s.FirstSample].DTS {
			t.Errorf("segment %d StartDTS %d, want %d", i, s.StartDTS, tr.Samples[s.FirstSample].DTS)
		}
		next += s.SampleCount
		total += s.Duration
	}
	if next != len(tr.Samples) {
		t.Errorf("segments cover %d of %d samples", next, len(tr.Samples))
	}
	if total != tr.Duration() {
		t.Errorf("segment durations sum to %d, track lasts %d", total, tr.Duration())
	}
}

func TestBoundaries(t *testing.T) {
	// 30 fps at timescale 15360 (ffmpeg's default): 512 ticks a frame.
	const ts, d = 15360, 512
	tests := []struct {
		name   string
		track  *mp4.Track
		target time.Duration
		want   []segShape
	}{
		{"2s GOPs, 6s target", videoTrack(ts, d, 600, every(60, 600)...), 6 * time.Second,
			[]segShape{{0, 180, 180 * d}, {180, 180, 180 * d}, {360, 180, 180 * d}, {540, 60, 60 * d}}},
		{"10s GOP, 6s target", videoTrack(ts, d, 750, every(300, 750)...), 6 * time.Second,
			[]segShape{{0, 300, 300 * d}, {300, 300, 300 * d}, {600, 150, 150 * d}}},
		{"irregular GOPs", videoTrack(ts, d, 400, 0, 50, 170, 200, 350, 390), 6 * time.Second,
			// 170 is at 5.67 s (< 6 s): the cut waits for 200 (6.67 s);
			// then 350 is 5 s after 200 and 390 is 6.33 s after it.
			[]segShape{{0, 200, 200 * d}, {200, 190, 190 * d}, {390, 10, 10 * d}}},
		{"single keyframe", videoTrack(ts, d, 300, 0), 6 * time.Second,
			[]segShape{{0, 300, 300 * d}}},
		{"first sample not a keyframe", videoTrack(ts, d, 400, 5, 185, 365), 6 * time.Second,
			[]segShape{{0, 185, 185 * d}, {185, 180, 180 * d}, {365, 35, 35 * d}}},
		{"keyframe exactly at target", videoTrack(1000, 1000, 13, every(3, 13)...), 6 * time.Second,
			[]segShape{{0, 6, 6000}, {6, 6, 6000}, {12, 1, 1000}}},
		{"one sample", videoTrack(ts, d, 1, 0), 6 * time.Second, []segShape{{0, 1, d}}},
		{"audio only", audioTrack(48000, 470), 6 * time.Second,
			// 6 s = 281.25 frames: the cut is at frame 282 (6.016 s).
			[]segShape{{0, 282, 282 * 1024}, {282, 188, 188 * 1024}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			segs := Boundaries(tt.track, tt.target)
			checkSegments(t, tt.track, segs)
			got := shapes(segs)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d segments %v, want %v", len(got), got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("segment %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestBoundariesEmpty(t *testing.T) {
	if segs := Boundaries(&mp4.Track{Timescale: 1000}, 6*time.Second); segs != nil {
		t.Errorf("empty track: %v", segs)
	}
}

func TestCutAt(t *testing.T) {
	const ts, d = 15360, 512
	ref := videoTrack(ts, d, 600, every(60, 600)...)
	bounds := Times(Boundaries(ref, 6*time.Second)) // 6 s, 12 s, 18 s
	tests := []struct {
		name     string
		track    *mp4.Track
		syncOnly bool
		want     []int // first samples
	}{
		// 6 s at 48 kHz is frame 281.25 -> 282; 12 s -> 563; 18 s -> 844.
		{"audio 48k", audioTrack(48000, 938), false, []int{0, 282, 563, 844}},
		// 44.1 kHz: 6 s = 258.4 frames -> 259; 12 s -> 517 (516.8); 18 s -> 776 (775.2).
		{"audio 44.1k", audioTrack(44100, 862), false, []int{0, 259, 517, 776}},
		{"audio shorter than video", audioTrack(48000, 400), false, []int{0, 282}},
		{"aligned video, other timescale", videoTrack(90000, 3000, 600, every(60, 600)...), true, []int{0, 180, 360, 540}},
		{"video 25 fps", videoTrack(12800, 512, 500, every(50, 500)...), true, []int{0, 150, 300, 450}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			segs := CutAt(tt.track, bounds, ts, tt.syncOnly)
			checkSegments(t, tt.track, segs)
			if len(segs) != len(tt.want) {
				t.Fatalf("got %d segments %v, want firsts %v", len(segs), shapes(segs), tt.want)
			}
			for i, s := range segs {
				if s.FirstSample != tt.want[i] {
					t.Errorf("segment %d starts at sample %d, want %d", i, s.FirstSample, tt.want[i])
				}
			}
		})
	}
}

func TestAligned(t *testing.T) {
	ref := videoTrack(15360, 512, 600, every(60, 600)...)
	bounds := Times(Boundaries(ref, 6*time.Second))
	tests := []struct {
		name  string
		track *mp4.Track
		want  bool
	}{
		{"same gops", videoTrack(15360, 512, 600, every(60, 600)...), true},
		{"1s gops", videoTrack(90000, 3000, 600, every(30, 600)...), true},
		{"shifted gops", videoTrack(15360, 512, 600, every(60, 600)[1:]...), true},
		{"offset keyframes", videoTrack(15360, 512, 600, 0, 45, 105, 165, 225, 285, 345, 405, 465, 525), false},
		{"too short", videoTrack(15360, 512, 200, every(60, 200)...), false},
	}
	// "shifted gops" drops keyframe 0 only, so the boundaries still land on
	// keyframes.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := aligned(tt.track, bounds, 15360); got != tt.want {
				t.Errorf("aligned = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAtOrAfter(t *testing.T) {
	tests := []struct {
		dts   int64
		scale uint32
		b     int64
		bs    uint32
		want  bool
	}{
		{48000 * 6, 48000, 6 * 90000, 90000, true},
		{48000*6 - 1, 48000, 6 * 90000, 90000, false},
		{1 << 62, 1, 1 << 62, 1, true},
		{-5, 1000, 0, 1000, false},
		{0, 1000, -5, 1000, true},
		{-5, 1000, -6, 1000, true},
		{-6, 1000, -5, 1000, false},
	}
	for _, tt := range tests {
		if got := atOrAfter(tt.dts, tt.scale, tt.b, tt.bs); got != tt.want {
			t.Errorf("atOrAfter(%d/%d >= %d/%d) = %v, want %v", tt.dts, tt.scale, tt.b, tt.bs, got, tt.want)
		}
	}
}
