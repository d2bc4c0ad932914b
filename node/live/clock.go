package live

// Timestamp model (see DESIGN.md): input timestamps are milliseconds from
// the publisher, possibly 32-bit values that wrap after 49.7 days, and may
// jump. They are mapped to an output timeline in milliseconds that starts
// at 0, never goes backwards per track and continues across jumps and
// publisher reconnects: out = unwrapped input + offset, and the offset is
// re-based whenever the input jumps.

// trackClock is the per-track state of the session clock.
type trackClock struct {
	has      bool
	lastRaw  int64
	lastIn   int64 // unwrapped
	lastOut  int64
	lastStep int64 // last positive output step, the frame duration guess
}

// clock maps input milliseconds of both tracks to the output timeline.
type clock struct {
	maxJump      int64 // ms
	offset       int64
	started      bool
	resync       bool  // the next sample re-bases the timeline (reconnect)
	end          int64 // largest output time seen
	video, audio trackClock
}

// wrapDelta is the difference of two timestamps taken as 32-bit values,
// so that a wrap of the RTMP timestamp counts as a small step forward.
func wrapDelta(a, b int64) int64 {
	return int64(int32(uint32(a) - uint32(b)))
}

// reconnect makes the next sample continue the timeline after its end.
func (c *clock) reconnect() {
	c.resync = true
	c.video.has, c.audio.has = false, false
}

// mapTS maps raw for track tc (other is the other track). backTol is how
// far (ms) the track may step back without it counting as a jump (0 for
// video, whose decode times must increase: an equal time is nudged 1 ms
// forward). It reports whether the sample jumped and the timeline was
// re-based.
func (c *clock) mapTS(tc, other *trackClock, raw, backTol int64) (out int64, jumped bool) {
	in := raw
	switch {
	case tc.has:
		in = tc.lastIn + wrapDelta(raw, tc.lastRaw)
	case other.has:
		in = other.lastIn + wrapDelta(raw, other.lastRaw)
	}
	if !c.started || c.resync {
		c.offset = c.end - in
		if c.started {
			c.offset += max(c.video.lastStep, c.audio.lastStep, 1)
		}
		c.started, c.resync = true, false
	}
	out = in + c.offset
	if tc.has && (out < tc.lastOut-backTol || out > tc.lastOut+c.maxJump) {
		c.offset = max(c.end, tc.lastOut) + max(tc.lastStep, 1) - in
		out = in + c.offset
		jumped = true
	}
	if tc.has && backTol == 0 && out <= tc.lastOut {
		out = tc.lastOut + 1
	}
	if tc.has && out > tc.lastOut && out-tc.lastOut <= 1000 {
		tc.lastStep = out - tc.lastOut
	}
	tc.has, tc.lastRaw, tc.lastIn = true, raw, in
	tc.lastOut = max(tc.lastOut, out)
	c.end = max(c.end, out)
	return out, jumped
}
