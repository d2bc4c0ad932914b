package live

import (
	"fmt"

	"github.com/classmesh/classmesh/node/mp4"
)

// Audio limits.
const (
	maxEarlyFrames = 512  // frames held before the first video segment
	maxBoundaries  = 4096 // video boundaries waiting for audio
)

// boundary is a cut the video made, in session ticks: a part boundary or,
// with segment set, the start of segment msn.
type boundary struct {
	at      int64
	segment bool
	msn     int64
	disc    bool
	discSeq int64
}

// audioOut cuts the audio rendition at the video's boundaries (or, with
// no video, at its own). Frame times follow the AAC frame length and only
// resynchronise with the input when it drifts beyond a tolerance.
type audioOut struct {
	output
	frameLen int64 // audio ticks per frame
	rate     int64 // timescale
	pending  *audioFrame
	next     int64 // expected dts of the next frame
	started  bool
	queue    []boundary
	early    []audioFrame
	needSeg  bool // new configuration: drop frames until a segment starts
	lastAt   int64
	dropped  int64
}

type audioFrame struct {
	dts    int64
	data   []byte
	initID uint32
}

// configure installs an AudioSpecificConfig.
func (a *audioOut) configure(asc []byte) error {
	t, cfg, err := mp4.NewAACTrack(2, asc)
	if err != nil {
		return fmt.Errorf("%w: audio configuration: %w", ErrCodec, err)
	}
	if a.track != nil && int64(t.Timescale) != a.rate {
		a.started = false
	}
	a.frameLen, a.rate = int64(cfg.FrameLength), int64(t.Timescale)
	if a.setTrack(t) && a.open {
		a.needSeg = true
		a.pk.discNext = true
		a.pk.video.forceCut = true
	}
	return nil
}

// session converts audio ticks to session ticks.
func (a *audioOut) session(ticks int64) int64 { return ticks * ticksPerSecond / a.rate }

// place returns the decode time of a frame whose input time is tA (audio
// ticks), or false to drop it (it overlaps the previous frame).
func (a *audioOut) place(tA int64) (int64, bool) {
	if !a.started {
		a.started, a.next = true, tA
	}
	tol := max(2*a.frameLen, a.rate/20)
	dts := a.next
	switch d := tA - a.next; {
	case d > tol:
		dts = tA // a gap in the input: the previous frame stretches over it
	case d < -tol:
		a.dropped++
		return 0, false
	}
	a.next = dts + a.frameLen
	return dts, true
}

// frame takes one AAC frame at output time outMs.
func (a *audioOut) frame(outMs int64, jumped bool, data []byte) {
	dts, ok := a.place(outMs * a.rate / 1000)
	if !ok {
		return
	}
	f := audioFrame{dts: dts, data: data, initID: a.initID}
	if a.pk.audioLed {
		a.ledFrame(f, jumped)
		return
	}
	if !a.open && !a.segmentQueued() {
		if len(a.early) >= maxEarlyFrames {
			a.early = a.early[1:]
		}
		a.early = append(a.early, f)
		return
	}
	a.process(f)
}

// process places a frame after the boundaries before it.
func (a *audioOut) process(f audioFrame) {
	at := a.session(f.dts)
	if p := a.pending; p != nil {
		a.applyUpTo(a.session(p.dts))
		a.complete(f.dts - p.dts)
	}
	a.applyUpTo(at)
	if !a.open || a.needSeg || at < a.lastAt-a.session(a.frameLen) {
		a.dropped++
		return
	}
	a.pending = &f
}

// complete gives the pending frame its duration and adds it to the part.
func (a *audioOut) complete(dur int64) {
	p := a.pending
	a.pending = nil
	if !a.open {
		return
	}
	dur = min(max(dur, 1), 1<<31)
	a.part.add(mp4.Sample{DTS: p.dts, Duration: uint32(dur), Sync: true}, p.data, p.initID)
	if a.part.full() {
		a.flush(false)
	}
}

// applyUpTo applies the queued boundaries at or before session time at.
func (a *audioOut) applyUpTo(at int64) {
	for len(a.queue) > 0 && a.queue[0].at <= at {
		b := a.queue[0]
		a.queue = a.queue[1:]
		a.apply(b)
	}
}

// apply ends the part (and segment) at b.
func (a *audioOut) apply(b boundary) {
	if b.segment && a.open && a.index == 0 && len(a.part.samples) == 0 {
		a.part.dur = max((b.at-a.start)*a.rate/ticksPerSecond, 0) // a gap segment
	}
	a.flush(b.segment)
	if b.segment {
		a.openSegment(b.msn, b.at, b.disc, b.discSeq)
		a.needSeg = false
	}
	a.lastAt = b.at
}

// segmentQueued reports whether a segment start is waiting.
func (a *audioOut) segmentQueued() bool {
	for _, b := range a.queue {
		if b.segment {
			return true
		}
	}
	return false
}

// boundary queues a video cut. Boundaries the pending frame has already
// passed are applied at once; audio lagging far behind is given up on
// (its segments become gaps) so that the queue stays short.
func (a *audioOut) boundary(b boundary) {
	if a.track == nil || a.pk.audioLed || (!b.segment && !a.open && !a.segmentQueued()) {
		return
	}
	a.queue = append(a.queue, b)
	lag := max(3*ticksPerSecond, 2*a.pk.segTarget)
	for len(a.queue) > 0 && (b.at-a.queue[0].at > lag || len(a.queue) > maxBoundaries) {
		if p := a.pending; p != nil && a.session(p.dts) < a.queue[0].at {
			a.complete(a.frameLen)
		}
		a.apply(a.queue[0])
		a.queue = a.queue[1:]
	}
	if p := a.pending; p != nil {
		a.applyUpTo(a.session(p.dts))
	}
	if b.segment && len(a.early) > 0 {
		early := a.early
		a.early = nil
		for _, f := range early {
			a.process(f)
		}
	}
}

// ledFrame cuts audio by itself when there is no video.
func (a *audioOut) ledFrame(f audioFrame, jumped bool) {
	if a.pending != nil {
		a.complete(f.dts - a.pending.dts)
	}
	at := a.session(f.dts)
	limit := int64(a.pk.partTarget) * a.rate / 1e9
	switch {
	case !a.open || jumped || a.needSeg || at-a.start >= a.pk.segTarget-keyTolerance:
		if jumped {
			a.pk.discNext = true
		}
		a.flush(true)
		msn, disc, discSeq := a.pk.beginSegment(at)
		a.openSegment(msn, at, disc, discSeq)
		a.needSeg = false
	case a.part.dur+a.frameLen > limit:
		a.flush(false)
	}
	a.pending = &f
}

// finish closes the audio segment. With video leading, end is where the
// video ended: queued boundaries are applied first, and a segment without
// any audio becomes a gap lasting until end.
func (a *audioOut) finish(end int64, videoLed bool) {
	if a.track == nil {
		return
	}
	if videoLed {
		for len(a.queue) > 0 {
			if p := a.pending; p != nil && a.session(p.dts) < a.queue[0].at {
				a.complete(a.frameLen)
			}
			a.apply(a.queue[0])
			a.queue = a.queue[1:]
		}
	}
	if a.pending != nil {
		a.complete(a.frameLen)
	}
	if a.open && a.index == 0 && len(a.part.samples) == 0 && end > a.start {
		a.part.dur = (end - a.start) * a.rate / ticksPerSecond
	}
	a.flush(true)
	a.early, a.queue = nil, nil
}
