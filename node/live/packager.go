package live

import (
	"time"

	"github.com/classmesh/classmesh/node/hls"
	"github.com/classmesh/classmesh/node/mp4"
)

// Timeline constants.
const (
	// ticksPerSecond is the session timeline and the video timescale.
	ticksPerSecond = 90000
	ticksPerMs     = ticksPerSecond / 1000
	// keyTolerance lets a key frame a little before the segment target
	// (millisecond rounding) still cut the segment.
	keyTolerance = 10 * ticksPerMs
	// Per-part safety limits: a part is flushed when it reaches them.
	maxPartSamples = 1000
	maxPartBytes   = 16 << 20
)

// sink receives what a packager produces.
type sink interface {
	putInit(rendition string, init []byte)
	putPart(rendition string, p Part)
}

// partBuf accumulates the samples of one part.
type partBuf struct {
	samples []mp4.Sample
	data    []byte
	dur     int64 // track ticks
	initID  uint32
}

func (b *partBuf) add(s mp4.Sample, data []byte, initID uint32) {
	if len(b.samples) == 0 {
		b.initID = initID
	}
	s.Size = uint32(len(data))
	b.samples = append(b.samples, s)
	b.data = append(b.data, data...)
	b.dur += int64(s.Duration)
}

func (b *partBuf) full() bool {
	return len(b.samples) >= maxPartSamples || len(b.data) >= maxPartBytes
}

// output is the state one rendition shares between video and audio:
// numbering, the current segment and the part being built.
type output struct {
	name    string
	pk      *packager
	track   *mp4.Track
	initID  uint32
	seq     uint32 // mfhd sequence number of the last part
	msn     int64
	index   int   // index of the next part in the segment
	open    bool  // a segment is open
	segDisc bool  // the open segment follows a discontinuity
	discSeq int64 // of the open segment
	segDur  int64 // ticks of the parts already emitted in the segment
	start   int64 // session ticks (90 kHz) where the open segment starts
	part    partBuf
}

// setTrack installs a new codec configuration; it reports whether the
// init segment changed.
func (o *output) setTrack(t *mp4.Track) bool {
	init := mp4.AppendInit(nil, t)
	id := InitID(init)
	o.track = t
	if id == o.initID {
		return false
	}
	o.initID = id
	o.pk.sink.putInit(o.name, init)
	return true
}

// openSegment starts segment msn at session time at.
func (o *output) openSegment(msn int64, at int64, disc bool, discSeq int64) {
	o.msn, o.index, o.open = msn, 0, true
	o.segDisc, o.discSeq, o.segDur, o.start = disc, discSeq, 0, at
}

// ticksDuration converts track ticks to a duration in whole microseconds.
func (o *output) ticksDuration(ticks int64) time.Duration {
	us := ticks * 1e6 / int64(o.track.Timescale)
	return time.Duration(us) * time.Microsecond
}

// flush emits the part being built; end closes the segment. An empty part
// is emitted only as the gap part of a segment without any media.
func (o *output) flush(end bool) {
	if !o.open || (len(o.part.samples) == 0 && !(end && o.index == 0)) {
		if end {
			o.open = false
		}
		return
	}
	p := o.makePart(end)
	o.pk.sink.putPart(o.name, p)
	o.segDur += o.part.dur
	o.index++
	o.part = partBuf{samples: o.part.samples[:0], data: o.part.data[:0]}
	if end {
		o.open = false
	}
}

// makePart builds the Part for the current buffer.
func (o *output) makePart(end bool) Part {
	b := &o.part
	p := Part{
		MSN: o.msn, Index: o.index, Duration: o.ticksDuration(b.dur),
		Discontinuity: o.index == 0 && o.segDisc, SegmentEnd: end,
		DiscSeq: o.discSeq, InitID: b.initID,
		PartTarget: o.pk.partTarget, TargetDuration: o.pk.target,
	}
	if len(b.samples) == 0 { // a segment without media
		p.Gap, p.InitID, p.PDT = true, o.initID, o.pk.pdt(o.start)
		p.SegmentDuration = p.Duration
		return p
	}
	o.seq++
	p.Independent = b.samples[0].Sync
	p.PDT = o.pk.pdt(b.samples[0].DTS * ticksPerSecond / int64(o.track.Timescale))
	p.Data = mp4.AppendSegmentHeader(make([]byte, 0, mp4.SegmentHeaderSize(o.track, b.samples)+len(b.data)), o.seq, o.track, b.samples)
	p.Data = append(p.Data, b.data...)
	if end {
		p.SegmentDuration = o.ticksDuration(o.segDur + b.dur)
		o.pk.noteSegment(p.SegmentDuration)
	}
	return p
}

// packager is the session's packaging state: the clock, the two
// renditions and what they share (segment numbers, discontinuities,
// program date times).
type packager struct {
	sink       sink
	now        func() time.Time
	partTarget time.Duration
	segTarget  int64 // ticks
	target     int   // EXT-X-TARGETDURATION so far
	clock      clock
	video      *videoOut
	audio      *audioOut
	audioLed   bool // no video: audio cuts its own segments
	decided    bool // audioLed has been decided for this publication
	nextMSN    int64
	discSeq    int64
	discNext   bool // the next segment starts with a discontinuity
	pdtWall    time.Time
	pdtTicks   int64
}

func newPackager(cfg Config, s sink) *packager {
	pk := &packager{
		sink: s, now: cfg.Now, partTarget: cfg.PartTarget,
		segTarget: int64(cfg.SegmentTarget / (time.Second / ticksPerSecond)),
		target:    int((cfg.SegmentTarget + time.Second - 1) / time.Second),
		clock:     clock{maxJump: cfg.MaxJump.Milliseconds()},
	}
	pk.video = &videoOut{output: output{name: "video", pk: pk}, needKey: true}
	pk.audio = &audioOut{output: output{name: "audio", pk: pk}}
	return pk
}

// pdt returns the program date time of session time at.
func (pk *packager) pdt(at int64) time.Time {
	return pk.pdtWall.Add(time.Duration(at-pk.pdtTicks) * time.Second / ticksPerSecond).UTC()
}

// noteSegment raises the target duration to cover a finished segment.
func (pk *packager) noteSegment(d time.Duration) {
	pk.target = max(pk.target, hls.TargetDuration([]float64{d.Seconds()}))
}

// beginSegment allocates the next segment number at session time at and
// returns it with its discontinuity flag and sequence; a discontinuity
// re-anchors the program date time.
func (pk *packager) beginSegment(at int64) (int64, bool, int64) {
	msn := pk.nextMSN
	pk.nextMSN++
	disc := pk.discNext && msn > 0
	pk.discNext = false
	if disc {
		pk.discSeq++
	}
	switch {
	case msn == 0 || pk.pdtWall.IsZero():
		pk.pdtWall, pk.pdtTicks = pk.now(), at
	case disc:
		// Back to the wall clock, but never before the media already
		// dated (input faster than real time).
		wall := pk.now()
		if cont := pk.pdt(at); cont.After(wall) {
			wall = cont
		}
		pk.pdtWall, pk.pdtTicks = wall, at
	}
	return msn, disc, pk.discSeq
}

// decide fixes, at the first media frame of a publication, whether video
// leads the cutting (a video configuration is known) or audio does.
func (pk *packager) decide() {
	if !pk.decided {
		pk.decided = true
		pk.audioLed = pk.video.track == nil
	}
}

// reconnect prepares for a new publication continuing the session.
func (pk *packager) reconnect() {
	pk.clock.reconnect()
	pk.discNext = true
	pk.decided = false
	pk.video.needKey = true
}

// finish ends the open segments (publisher gone or session ended).
func (pk *packager) finish() {
	end := pk.video.finish()
	pk.audio.finish(end, !pk.audioLed && pk.video.track != nil)
}
