package vod

import (
	"math/bits"
	"time"

	"github.com/classmesh/classmesh/node/mp4"
)

// Boundaries cuts the reference track t into key-frame-aligned segments
// near target.
//
// Rule: segment 0 starts at sample 0 (a leading run of non-sync samples
// stays in it). A new segment starts at the first sync sample whose DTS is
// at least the current segment's start DTS plus target. So every segment
// but the last is at least target long, a GOP longer than target gives one
// longer segment, and no segment is empty. (ffmpeg's HLS muxer measures the
// split point from the stream start on a fixed grid, n*target; measuring
// from the segment start instead never yields a short segment after a long
// GOP.) Durations come from decode times: the next segment's start DTS
// minus this one's; the last segment uses its samples' durations.
//
// Segment sizes are left zero; the library fills them in.
func Boundaries(t *mp4.Track, target time.Duration) []Segment {
	n := len(t.Samples)
	if n == 0 {
		return nil
	}
	starts := []int{0}
	cur := t.Samples[0].DTS
	for i := 1; i < n; i++ {
		s := t.Samples[i]
		if s.Sync && elapsed(s.DTS-cur, t.Timescale, target) {
			starts = append(starts, i)
			cur = s.DTS
		}
	}
	return fromStarts(t, starts)
}

// elapsed reports whether ticks (in timescale) is at least target, exactly:
// ticks*1e9 >= target_ns*timescale in 128-bit arithmetic.
func elapsed(ticks int64, timescale uint32, target time.Duration) bool {
	if ticks < 0 {
		return false
	}
	if target <= 0 {
		return true
	}
	return cmpMul(uint64(ticks), uint64(time.Second), uint64(target), uint64(timescale)) >= 0
}

// cmpMul compares a*b with c*d without overflow.
func cmpMul(a, b, c, d uint64) int {
	h1, l1 := bits.Mul64(a, b)
	h2, l2 := bits.Mul64(c, d)
	switch {
	case h1 != h2:
		return cmpU(h1, h2)
	default:
		return cmpU(l1, l2)
	}
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// fromStarts builds segments from the indexes of their first samples
// (starts[0] must be 0, strictly increasing, all < len(t.Samples)).
func fromStarts(t *mp4.Track, starts []int) []Segment {
	n := len(t.Samples)
	segs := make([]Segment, len(starts))
	for k, first := range starts {
		end := n
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		s := Segment{Number: k, FirstSample: first, SampleCount: end - first, StartDTS: t.Samples[first].DTS}
		if end < n {
			s.Duration = t.Samples[end].DTS - s.StartDTS
		} else {
			last := t.Samples[n-1]
			s.Duration = last.DTS + int64(last.Duration) - s.StartDTS
		}
		segs[k] = s
	}
	return segs
}

// Times returns the start time of every segment but the first as a
// fraction of a second: ticks of the reference timescale.
func Times(segs []Segment) []int64 {
	out := make([]int64, 0, max(len(segs)-1, 0))
	for _, s := range segs[min(1, len(segs)):] {
		out = append(out, s.StartDTS)
	}
	return out
}

// CutAt cuts track t at the reference boundaries bounds, given in ticks of
// refScale (see Times): segment k+1 starts at the first sample (the first
// sync sample when syncOnly) whose DTS, converted exactly, is at or after
// bounds[k]. The search for each boundary starts after the previous
// segment's first sample, so no segment is empty; boundaries past the last
// qualifying sample are dropped (the last segment absorbs the rest), so the
// result may have fewer segments than the reference.
func CutAt(t *mp4.Track, bounds []int64, refScale uint32, syncOnly bool) []Segment {
	n := len(t.Samples)
	if n == 0 {
		return nil
	}
	starts := []int{0}
	i := 1
	for _, b := range bounds {
		for i < n && (!atOrAfter(t.Samples[i].DTS, t.Timescale, b, refScale) || (syncOnly && !t.Samples[i].Sync)) {
			i++
		}
		if i >= n {
			break
		}
		starts = append(starts, i)
		i++
	}
	return fromStarts(t, starts)
}

// atOrAfter reports whether dts/scale >= b/bScale, exactly.
func atOrAfter(dts int64, scale uint32, b int64, bScale uint32) bool {
	switch {
	case dts < 0 && b >= 0:
		return false
	case dts >= 0 && b < 0:
		return true
	case dts < 0: // both negative: compare magnitudes reversed
		return cmpMul(uint64(-dts), uint64(bScale), uint64(-b), uint64(scale)) <= 0
	}
	return cmpMul(uint64(dts), uint64(bScale), uint64(b), uint64(scale)) >= 0
}

// aligned reports whether cutting t at bounds lands every boundary exactly
// on a sync sample: the first sample at or after each boundary is a sync
// sample, and no boundary is dropped.
func aligned(t *mp4.Track, bounds []int64, refScale uint32) bool {
	i := 1
	for _, b := range bounds {
		for i < len(t.Samples) && !atOrAfter(t.Samples[i].DTS, t.Timescale, b, refScale) {
			i++
		}
		if i >= len(t.Samples) || !t.Samples[i].Sync {
			return false
		}
		i++
	}
	return true
}
