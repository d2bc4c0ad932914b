package live

import "time"

// Holes: parts may reach an edge out of order (the relay sends groups in
// parallel, newest first, and drops stale ones). A part that arrives ahead
// of the next expected one waits in Track.pending; once the hole is older
// than the gap timeout, or too much waits behind it, the hole is given up:
// the incomplete segment and any lost ones become EXT-X-GAP segments and
// listing resumes at the first waiting segment start.

// Bounds of what waits behind a hole.
const (
	maxPending      = 512
	maxPendingBytes = 64 << 20
	// maxGapSegments is the most segments a hole may span; a longer jump
	// (a reset on the producer, or a hostile header) restarts the window
	// at the new segment instead of listing that many gaps.
	maxGapSegments = 64
)

// addPendingLocked keeps p until the parts before it are listed.
func (t *Track) addPendingLocked(p Part) {
	k := pos{p.MSN, p.Index}
	if old, ok := t.pending[k]; ok {
		t.pendingBytes -= len(old.Data)
	}
	if len(t.pending) == 0 {
		t.since = t.cfg.now()
	}
	t.pending[k] = p
	t.pendingBytes += len(p.Data)
}

func (t *Track) dropPendingLocked(k pos) {
	if p, ok := t.pending[k]; ok {
		t.pendingBytes -= len(p.Data)
		delete(t.pending, k)
	}
}

func (t *Track) clearPendingLocked() {
	clear(t.pending)
	t.pendingBytes = 0
}

// overfull reports whether too much waits behind a hole.
func (t *Track) overfull() bool {
	return len(t.pending) > maxPending || t.pendingBytes > maxPendingBytes
}

// drainLocked lists pending parts that have become next. A hole that
// remains gets a fresh gap timeout when listing progressed.
func (t *Track) drainLocked() {
	progressed := false
	for len(t.pending) > 0 {
		next, started := t.nextLocked()
		if !started {
			return
		}
		p, ok := t.pending[next]
		if !ok {
			for k := range t.pending {
				if k.less(next) {
					t.dropPendingLocked(k) // stale: before the next position
				}
			}
			break
		}
		t.dropPendingLocked(next)
		t.appendLocked(p)
		progressed = true
	}
	switch {
	case len(t.pending) == 0:
		t.since = time.Time{}
	case progressed:
		t.since = t.cfg.now()
	}
}

// resolveHoleLocked gives up the hole before the pending parts when it is
// older than the gap timeout or too much waits behind it.
func (t *Track) resolveHoleLocked() {
	if len(t.pending) == 0 || !t.overfull() && t.cfg.now().Sub(t.since) < t.cfg.gapTimeout {
		return
	}
	start, ok := t.firstPendingStartLocked()
	switch {
	case !ok:
		if t.overfull() {
			t.clearPendingLocked() // nothing to resume at: drop the backlog
		}
		return
	case len(t.segs) == 0 || start.msn-t.segs[len(t.segs)-1].msn > maxGapSegments:
		t.restartLocked(start)
	default:
		t.closeAsGapLocked(start)
	}
	t.drainLocked()
}

// restartLocked empties the window and starts it again at start.
func (t *Track) restartLocked(start pos) {
	clear(t.segs)
	t.segs = t.segs[:0]
	p := t.pending[start]
	t.dropPendingLocked(start)
	t.appendLocked(p)
}

// firstPendingStartLocked returns the earliest pending part 0 after the
// next position.
func (t *Track) firstPendingStartLocked() (pos, bool) {
	next, started := t.nextLocked()
	var best pos
	found := false
	for k := range t.pending {
		if k.index == 0 && (!started || next.msn < k.msn) && (!found || k.less(best)) {
			best, found = k, true
		}
	}
	return best, found
}

// closeAsGapLocked ends the open segment as a gap and adds gap segments
// up to start.msn, with durations taken from what is known.
func (t *Track) closeAsGapLocked(start pos) {
	last := t.segs[len(t.segs)-1]
	resume := t.pending[start]
	missing := start.msn - last.msn - 1
	if !last.complete {
		last.complete, last.gap = true, true
		last.duration = t.lostDuration(last.msn, last.partsDuration())
	}
	est := time.Duration(t.target) * time.Second
	if end := last.pdt.Add(last.duration); missing > 0 && !last.pdt.IsZero() && resume.PDT.After(end) {
		est = resume.PDT.Sub(end) / time.Duration(missing)
	}
	for m := last.msn + 1; m < start.msn; m++ {
		t.segs = append(t.segs, &segment{
			msn: m, complete: true, gap: true, duration: t.lostDuration(m, est),
			discSeq: last.discSeq, initID: last.initID,
		})
	}
	for k := range t.pending {
		if k.less(start) {
			t.dropPendingLocked(k)
		}
	}
}

// lostDuration is the duration of lost segment msn: from its last part
// when that arrived, else est.
func (t *Track) lostDuration(msn int64, est time.Duration) time.Duration {
	for k, p := range t.pending {
		if k.msn == msn && p.SegmentEnd && p.SegmentDuration > 0 {
			return p.SegmentDuration
		}
	}
	if est <= 0 {
		est = time.Second
	}
	return est
}
