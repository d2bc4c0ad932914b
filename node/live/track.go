package live

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// MaxPartSize bounds the Data of one part (64 MiB).
const MaxPartSize = 64 << 20

// maxWindowSegments bounds a window whatever its segments' durations.
const maxWindowSegments = 16384

// pos is a part position: media sequence number and part index.
type pos struct {
	msn   int64
	index int
}

func (a pos) less(b pos) bool { return a.msn < b.msn || a.msn == b.msn && a.index < b.index }

// segment is one segment of a track's window.
type segment struct {
	msn      int64
	parts    []Part
	complete bool // the last part (SegmentEnd) is in, or the segment was given up
	gap      bool // no media: EXT-X-GAP
	duration time.Duration
	size     int64
	pdt      time.Time
	disc     bool
	discSeq  int64
	initID   uint32
}

// trackConfig is what a Track needs from its session.
type trackConfig struct {
	dvr        time.Duration
	gapTimeout time.Duration
	now        func() time.Time
}

// Track is the DVR window of one rendition of a session: init segments,
// segments and parts. It is fed by the local packager or, on an edge, by
// the relay through PutInit and PutPart, and read by the HTTP handler.
// Parts become visible strictly in order; a part that arrives ahead of a
// missing one waits (see DESIGN.md, "Holes"). Safe for concurrent use.
type Track struct {
	name string
	cfg  trackConfig

	mu           sync.Mutex
	changed      chan struct{} // closed and replaced on every change
	inits        map[uint32][]byte
	lastInit     uint32
	info         map[uint32]initInfo
	segs         []*segment // contiguous MSNs
	pending      map[pos]Part
	pendingBytes int
	since        time.Time // when the current hole was first seen
	ended        bool
	target       int
	partTgt      time.Duration
	version      uint64
	// rendered keeps the last media playlist rendered per skip mode: a
	// thousand viewers woken by one new part share one rendering (and
	// hold the lock that PutPart needs for much less time).
	rendered [2]renderedPlaylist
}

func newTrack(name string, cfg trackConfig) *Track {
	return &Track{
		name: name, cfg: cfg, changed: make(chan struct{}),
		inits: map[uint32][]byte{}, info: map[uint32]initInfo{}, pending: map[pos]Part{},
	}
}

// Name returns the rendition name ("video", "audio").
func (t *Track) Name() string { return t.name }

// notifyLocked wakes every waiter.
func (t *Track) notifyLocked() {
	t.version++
	close(t.changed)
	t.changed = make(chan struct{})
}

// PutInit stores an init segment. Parts name the init they need by
// InitID; the latest init is also served as init.mp4.
func (t *Track) PutInit(init []byte) error {
	if len(init) == 0 || len(init) > MaxPartSize {
		return fmt.Errorf("%w: init segment of %d bytes", ErrCodec, len(init))
	}
	info, err := parseInit(init)
	if err != nil {
		return err
	}
	id := InitID(init)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return ErrEnded
	}
	t.inits[id] = append([]byte(nil), init...)
	t.info[id] = info
	t.lastInit = id
	t.notifyLocked()
	return nil
}

// PutPart adds a part. Parts may arrive out of order: a part is listed
// once every part before it is, or once the hole before it is given up as
// a gap. A part older than the window, or a duplicate, is ignored.
func (t *Track) PutPart(p Part) error {
	if err := checkPart(p); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return ErrEnded
	}
	t.target = max(t.target, p.TargetDuration)
	t.partTgt = max(t.partTgt, p.PartTarget)
	next, started := t.nextLocked()
	switch {
	case !started && p.Index == 0:
		t.appendLocked(p) // the first segment start seen begins the track
	case started && p.MSN == next.msn && p.Index == next.index:
		t.appendLocked(p)
	case started && (pos{p.MSN, p.Index}).less(next):
		return nil // duplicate or too old
	default:
		t.addPendingLocked(p)
	}
	t.drainLocked()
	t.resolveHoleLocked()
	t.pruneLocked()
	t.notifyLocked()
	return nil
}

// checkPart validates what PutPart cannot repair.
func checkPart(p Part) error {
	switch {
	case p.MSN < 0 || p.MSN > maxMSN || p.Index < 0 || p.Index >= MaxPartsPerSegment:
		return fmt.Errorf("%w: part %d.%d out of range", ErrBadHeader, p.MSN, p.Index)
	case len(p.Data) > MaxPartSize:
		return fmt.Errorf("%w: part of %d bytes", ErrBadHeader, len(p.Data))
	case p.Duration < 0 || p.SegmentDuration < 0:
		return fmt.Errorf("%w: negative duration", ErrBadHeader)
	}
	return nil
}

// nextLocked returns the position of the next part to list.
func (t *Track) nextLocked() (pos, bool) {
	if len(t.segs) == 0 {
		return pos{}, false
	}
	last := t.segs[len(t.segs)-1]
	if last.complete {
		return pos{last.msn + 1, 0}, true
	}
	return pos{last.msn, len(last.parts)}, true
}

// appendLocked lists p, which is the next part (or the first).
func (t *Track) appendLocked(p Part) {
	if p.Index == 0 {
		t.segs = append(t.segs, &segment{
			msn: p.MSN, pdt: p.PDT, disc: p.Discontinuity, discSeq: p.DiscSeq, initID: p.InitID,
		})
	}
	s := t.segs[len(t.segs)-1]
	s.parts = append(s.parts, p)
	s.size += int64(len(p.Data))
	s.gap = s.gap || p.Gap
	if p.SegmentEnd {
		s.complete = true
		s.duration = p.SegmentDuration
		if s.duration <= 0 {
			s.duration = s.partsDuration()
		}
	}
}

func (s *segment) partsDuration() time.Duration {
	var d time.Duration
	for _, p := range s.parts {
		d += p.Duration
	}
	return d
}

// pruneLocked drops segments older than the DVR window and inits no
// segment needs.
func (t *Track) pruneLocked() {
	var kept time.Duration
	cut := 0
	for i := len(t.segs) - 1; i > 0; i-- {
		kept += t.segs[i].duration
		if kept >= t.cfg.dvr {
			cut = i
			break
		}
	}
	cut = max(cut, len(t.segs)-maxWindowSegments)
	if cut <= 0 {
		return
	}
	clear(t.segs[:cut])
	t.segs = t.segs[cut:]
	used := map[uint32]bool{t.lastInit: true}
	for _, s := range t.segs {
		used[s.initID] = true
	}
	for id := range t.inits {
		if !used[id] {
			delete(t.inits, id)
			delete(t.info, id)
		}
	}
}

// End marks the track ended: its playlist gets EXT-X-ENDLIST and waiters
// return. An open segment is closed with the parts it has. End is
// idempotent.
func (t *Track) End() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return
	}
	t.ended = true
	t.clearPendingLocked()
	if n := len(t.segs); n > 0 && !t.segs[n-1].complete {
		s := t.segs[n-1]
		s.complete, s.duration = true, s.partsDuration()
	}
	t.notifyLocked()
}

// Ended reports whether End was called.
func (t *Track) Ended() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ended
}

// Last returns the position of the last listed part.
func (t *Track) Last() (msn int64, part int, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastLocked()
}

func (t *Track) lastLocked() (int64, int, bool) {
	if len(t.segs) == 0 {
		return 0, 0, false
	}
	s := t.segs[len(t.segs)-1]
	return s.msn, len(s.parts) - 1, true
}

// reachedLocked reports whether the playlist holds part (msn, part) or a
// later one; part < 0 asks for the whole segment msn.
func (t *Track) reachedLocked(msn int64, part int) bool {
	if len(t.segs) == 0 {
		return false
	}
	s := t.segs[len(t.segs)-1]
	if s.msn != msn {
		return s.msn > msn
	}
	if part < 0 {
		return s.complete
	}
	return len(s.parts)-1 >= part
}

// Wait blocks until the track lists part (msn, part) or a later part
// (part < 0: until segment msn is complete). It returns nil then,
// ErrEnded when the track ends first, or the context's error.
func (t *Track) Wait(ctx context.Context, msn int64, part int) error {
	for {
		t.mu.Lock()
		reached, ended, ch := t.reachedLocked(msn, part), t.ended, t.changed
		t.mu.Unlock()
		switch {
		case reached:
			return nil
		case ended:
			return ErrEnded
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// segmentLocked returns the listed segment msn.
func (t *Track) segmentLocked(msn int64) (*segment, bool) {
	if len(t.segs) == 0 || msn < t.segs[0].msn {
		return nil, false
	}
	i := msn - t.segs[0].msn
	if i >= int64(len(t.segs)) {
		return nil, false
	}
	return t.segs[i], true
}

// Part returns listed part (msn, index), Data included (shared: do not
// modify).
func (t *Track) Part(msn int64, index int) (Part, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.segmentLocked(msn)
	if !ok || index < 0 || index >= len(s.parts) {
		return Part{}, false
	}
	return s.parts[index], true
}

// Segment returns the parts' data of complete segment msn, in order;
// their concatenation is the segment. Gap segments are not found.
func (t *Track) Segment(msn int64) ([][]byte, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.segmentLocked(msn)
	if !ok || !s.complete || s.gap {
		return nil, false
	}
	out := make([][]byte, len(s.parts))
	for i, p := range s.parts {
		out[i] = p.Data
	}
	return out, true
}

// Init returns the init segment with the given ID.
func (t *Track) Init(id uint32) ([]byte, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b, ok := t.inits[id]
	return b, ok
}

// LatestInit returns the newest init segment and its ID.
func (t *Track) LatestInit() ([]byte, uint32, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b, ok := t.inits[t.lastInit]
	return b, t.lastInit, ok
}

// LastComplete returns the newest complete segment's MSN: where a late
// subscriber should start.
func (t *Track) LastComplete() (int64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.segs) - 1; i >= 0; i-- {
		if t.segs[i].complete && !t.segs[i].gap {
			return t.segs[i].msn, true
		}
	}
	return 0, false
}
