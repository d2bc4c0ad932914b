package live

import (
	"fmt"

	"github.com/classmesh/classmesh/node/mp4"
)

// Video limits.
const (
	// maxSegmentParts cuts a segment without a key frame when an encoder
	// sends none for this many parts, so that part indices stay bounded.
	maxSegmentParts = 512
	// maxCTS bounds a composition offset (ms) so that it fits in ticks.
	maxCTS = 10_000
)

// videoOut cuts the video rendition: segments at key frames, parts at the
// part target. A sample's duration is known when the next one arrives, so
// one sample is always pending.
type videoOut struct {
	output
	pending  *videoSample
	lastDur  int64 // ticks
	needKey  bool  // drop frames until a key frame (start, jump, new config)
	forceCut bool  // the next key frame starts a segment whatever its time
	dropped  int64
}

type videoSample struct {
	dts    int64 // ticks
	cto    int32
	key    bool
	data   []byte
	initID uint32
}

// configure installs an AVCDecoderConfigurationRecord.
func (v *videoOut) configure(avcC []byte) error {
	t, err := mp4.NewAVCTrack(1, ticksPerSecond, avcC)
	if err != nil {
		return fmt.Errorf("%w: video configuration: %w", ErrCodec, err)
	}
	if v.setTrack(t) && v.open {
		// A new configuration needs a new segment starting at a key frame.
		v.needKey, v.forceCut = true, true
		v.pk.discNext = true
	}
	return nil
}

// sample takes one access unit at output time outMs.
func (v *videoOut) sample(outMs int64, cts int32, key, jumped bool, data []byte) {
	if jumped {
		v.needKey, v.forceCut = true, true
		v.pk.discNext = true
	}
	if v.needKey && !key {
		v.dropped++
		return // the pending sample stretches to the next kept one
	}
	t := outMs * ticksPerMs
	if v.pending != nil {
		v.complete(t - v.pending.dts)
	}
	cut := key && (!v.open || v.forceCut || v.needKey || t-v.start >= v.pk.segTarget-keyTolerance) ||
		v.index >= maxSegmentParts // no key frame for minutes: cut anyway
	switch {
	case cut:
		v.cut(t)
	case len(v.part.samples) > 0 && (v.part.dur+v.lastDur > v.partLimit() || v.part.full()):
		v.flush(false)
		v.pk.audio.boundary(boundary{at: t})
	}
	v.needKey = false
	cts = min(max(cts, -maxCTS), maxCTS)
	v.pending = &videoSample{dts: t, cto: cts * ticksPerMs, key: key, data: data, initID: v.initID}
}

// complete gives the pending sample its duration and adds it to the part.
func (v *videoOut) complete(dur int64) {
	p := v.pending
	v.pending = nil
	dur = max(dur, 1)
	v.lastDur = min(dur, ticksPerSecond)
	v.part.add(mp4.Sample{DTS: p.dts, Duration: uint32(min(dur, 1<<31)), CTO: p.cto, Sync: p.key}, p.data, p.initID)
}

// cut ends the open segment and opens the next one at t.
func (v *videoOut) cut(t int64) {
	v.flush(true)
	msn, disc, discSeq := v.pk.beginSegment(t)
	v.openSegment(msn, t, disc, discSeq)
	v.forceCut = false
	v.pk.audio.boundary(boundary{at: t, segment: true, msn: msn, disc: disc, discSeq: discSeq})
}

// partLimit is the part duration not to exceed: the part target, less one
// audio frame when there is audio, so that audio parts cut at the same
// times stay within the target too.
func (v *videoOut) partLimit() int64 {
	limit := int64(v.pk.partTarget) * ticksPerSecond / 1e9
	if a := v.pk.audio; a.track != nil && a.frameLen > 0 {
		limit -= a.frameLen * ticksPerSecond / int64(a.track.Timescale)
	}
	return max(limit, 1)
}

// finish completes the pending sample (with the last duration), closes
// the segment and returns where the video ends (session ticks), or -1
// when there was no video.
func (v *videoOut) finish() int64 {
	if v.pending != nil {
		d := v.lastDur
		if d <= 0 {
			d = ticksPerSecond / 30
		}
		end := v.pending.dts + d
		v.complete(d)
		v.flush(true)
		return end
	}
	v.flush(true)
	return -1
}
