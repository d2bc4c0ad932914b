package live

import (
	"context"
	"fmt"
)

// A Cursor reads one Track in order, blocking until the next object
// exists: the bridge to the relay reads the ingest node's tracks with it
// instead of polling. Make one with Track.Cursor or Track.CursorAt; one
// goroutine reads a cursor (a Track serves any number of cursors).
//
// Invariants (checked by cursor_test.go):
//
//  1. Positions only go forward: no part is delivered twice, and parts
//     come in (MSN, index) order.
//  2. A part is preceded by an EventInit carrying the init it needs
//     (Part.InitID) whenever that init differs from the last one the
//     cursor delivered and the track holds it.
//  3. EventSegmentEnd for segment M comes after every listed part of M and
//     before anything of M+1; a segment closed early (End) or given up as
//     a gap gets one too (Gap set for the latter).
//  4. A cursor whose position left the DVR window gets exactly one
//     EventSkip (From = where it was, At = the oldest segment still held)
//     and continues there; it is never moved back.
//  5. Next blocks only while its position is not listed yet and the track
//     has not ended, and never holds the track's lock while blocked. After
//     End it delivers what is still listed, then returns ErrEnded.
type Cursor struct {
	t      *Track
	start  Start
	placed bool
	at     Position // the next part to deliver
	init   uint32   // the last init delivered
	inited bool
}

// Position names a part of a track: media sequence number and index.
type Position struct {
	MSN   int64
	Index int
}

func (p Position) String() string { return fmt.Sprintf("%d.%d", p.MSN, p.Index) }

// Start says where a cursor made by Track.Cursor starts. The choice is
// made on the first Next that finds a listed segment.
type Start int

const (
	// FromOldest starts at the oldest segment of the window.
	FromOldest Start = iota
	// FromLive starts at the newest complete (non-gap) segment, where a
	// late joiner should start; at the oldest segment when none is
	// complete yet.
	FromLive
)

// EventKind tells what an Event carries.
type EventKind int

const (
	// EventInit carries an init segment (Init, InitID) that the next
	// parts need.
	EventInit EventKind = iota + 1
	// EventPart carries the next part (Part; its Data is shared: do not
	// modify it).
	EventPart
	// EventSegmentEnd says segment At.MSN is complete; Gap when it was
	// given up (EXT-X-GAP) rather than finished.
	EventSegmentEnd
	// EventSkip says the cursor fell behind the DVR window: the parts
	// from From up to At are gone, and the cursor continues at At.
	EventSkip
)

// Event is one thing a Cursor delivers.
type Event struct {
	Kind   EventKind
	Part   Part     // EventPart
	Init   []byte   // EventInit (shared: do not modify)
	InitID uint32   // EventInit
	At     Position // EventPart, EventSegmentEnd: its position; EventSkip: where the cursor resumes
	From   Position // EventSkip: where the cursor was
	Gap    bool     // EventSegmentEnd
}

// Cursor returns a cursor that starts at from.
func (t *Track) Cursor(from Start) *Cursor { return &Cursor{t: t, start: from} }

// CursorAt returns a cursor whose first part is (msn, index).
func (t *Track) CursorAt(msn int64, index int) *Cursor {
	return &Cursor{t: t, placed: true, at: Position{msn, max(index, 0)}}
}

// Position returns the position of the next part the cursor delivers
// (meaningful once Next returned an event).
func (c *Cursor) Position() Position { return c.at }

// Next returns the next event after the cursor's position, blocking until
// it exists. It returns ErrEnded once the track ended and everything
// listed was delivered, or ctx's error.
func (c *Cursor) Next(ctx context.Context) (Event, error) {
	t := c.t
	for {
		t.mu.Lock()
		ev, ok := c.nextLocked()
		ended, ch := t.ended, t.changed
		t.mu.Unlock()
		switch {
		case ok:
			return ev, nil
		case ended:
			return Event{}, ErrEnded
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// nextLocked returns the event at the cursor's position and moves past
// it, or false when it is not listed yet.
func (c *Cursor) nextLocked() (Event, bool) {
	t := c.t
	if len(t.segs) == 0 {
		return Event{}, false
	}
	if !c.placed {
		c.at, c.placed = Position{c.t.startLocked(c.start), 0}, true
	}
	if first := t.segs[0].msn; c.at.MSN < first {
		ev := Event{Kind: EventSkip, From: c.at, At: Position{first, 0}}
		c.at = ev.At
		return ev, true
	}
	s, ok := t.segmentLocked(c.at.MSN)
	if !ok {
		return Event{}, false // not listed yet
	}
	if c.at.Index < len(s.parts) {
		p := s.parts[c.at.Index]
		if !c.inited || p.InitID != c.init {
			if b, ok := t.inits[p.InitID]; ok {
				c.init, c.inited = p.InitID, true
				return Event{Kind: EventInit, Init: b, InitID: p.InitID, At: c.at}, true
			}
		}
		ev := Event{Kind: EventPart, Part: p, At: c.at}
		c.at.Index++
		return ev, true
	}
	if !s.complete {
		return Event{}, false // the open segment's next part
	}
	ev := Event{Kind: EventSegmentEnd, At: Position{s.msn, len(s.parts)}, Gap: s.gap}
	c.at = Position{s.msn + 1, 0}
	return ev, true
}

// startLocked returns the MSN where a cursor starting at from begins.
func (t *Track) startLocked(from Start) int64 {
	if from == FromLive {
		for i := len(t.segs) - 1; i >= 0; i-- {
			if t.segs[i].complete && !t.segs[i].gap {
				return t.segs[i].msn
			}
		}
	}
	return t.segs[0].msn
}
