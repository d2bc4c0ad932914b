package rtmp

// tsExtender turns 32-bit RTMP timestamps (ms, wrapping every ~49.7 days)
// into an int64 timeline. Each value is placed at the signed 32-bit distance
// from the previous one, so the timeline continues across the rollover and
// small backward steps (B-frame mistakes, interleaving jitter) stay small
// backward steps instead of becoming jumps of 2^32.
type tsExtender struct {
	started bool
	last32  uint32
	last64  int64
}

// extend returns ts on the extended timeline.
func (e *tsExtender) extend(ts uint32) int64 {
	if !e.started {
		e.started = true
		e.last32, e.last64 = ts, int64(ts)
		return e.last64
	}
	e.last64 += int64(int32(ts - e.last32))
	e.last32 = ts
	return e.last64
}
