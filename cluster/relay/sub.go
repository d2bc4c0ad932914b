package relay

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/classmesh/classmesh/internal/frame"
)

// TrackPublisher feeds one published track. Its methods never block on
// subscribers. It is safe for concurrent use, but objects must be written
// in order.
type TrackPublisher struct {
	r    *Relay
	h    *relayHub
	once sync.Once
}

// SetInit sets the track's init data (copied). Subscribers get it before
// the next object, and new subscribers get it first. Setting the same
// bytes again changes nothing.
func (p *TrackPublisher) SetInit(b []byte) {
	if reason := p.h.publishInit(bytes.Clone(b), p.r.now()); reason != "" {
		p.r.dropped(p.h.track, reason)
	}
}

// Write publishes o (Header and Payload are copied). o.Group must not
// decrease, and o.ID must increase within a group; an object that breaks
// this, is too large, or comes after Close is dropped and counted. An
// Init object is SetInit(o.Payload). A zero o.Created is set to now.
func (p *TrackPublisher) Write(o Object) {
	if o.Init {
		p.SetInit(o.Payload)
		return
	}
	now := p.r.now()
	if o.Created.IsZero() {
		o.Created = now
	}
	o.Header, o.Payload = bytes.Clone(o.Header), bytes.Clone(o.Payload)
	if reason := p.h.publishObject(o, now); reason != "" {
		p.r.dropped(p.h.track, reason)
	}
}

// Close ends the track: subscribers receive what was published, then
// ErrTrackEnded. The track may be published again afterwards.
func (p *TrackPublisher) Close() {
	p.once.Do(func() {
		p.h.end(ErrTrackEnded)
		p.r.unpublish(p.h)
	})
}

// Subscription reads one track through this node's relay. Next is safe
// for concurrent use (calls are serialised).
type Subscription struct {
	r *Relay
	h *relayHub

	mu       sync.Mutex // serialises Next; guards the fields below
	c        relayCursor
	sentInit *relayInit
	pending  *relayStep // an entry held back while its init goes first

	closeOnce sync.Once
	closed    chan struct{}
}

func newSubscription(r *Relay, h *relayHub) *Subscription {
	return &Subscription{
		r: r, h: h,
		c:      newRelayCursor(h, r.cfg.DeliveryTimeout, r.now()),
		closed: make(chan struct{}),
	}
}

// Next returns the next object: first the track's init (Init set), then
// the newest complete group, the current group so far, then live objects
// in order, with a changed init before the objects that use it. Groups
// that fall too far behind are skipped (see RELAY.md). The returned
// slices are shared: do not modify them.
//
// At the end of the track Next returns ErrTrackEnded (or ErrRelayUpstream,
// ErrClosed); after Close it returns ErrClosed.
func (s *Subscription) Next(ctx context.Context) (Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		select {
		case <-s.closed:
			return Object{}, ErrClosed
		default:
		}
		if st := s.pending; st != nil {
			s.pending = nil
			if o, ok := s.emit(st); ok {
				return o, nil
			}
			continue
		}
		s.h.mu.Lock()
		st := s.c.next(s.r.now())
		latest, fresh := s.h.init, s.c.fresh()
		s.h.mu.Unlock()
		switch {
		case st.ok && st.first && st.group.init != nil && st.group.init != s.sentInit:
			s.pending = &st
			return s.initObject(st.group.init, st.group.id), nil
		case st.ok:
			if o, ok := s.emit(&st); ok {
				return o, nil
			}
		case st.err != nil:
			return Object{}, st.err
		case fresh && latest != nil && latest != s.sentInit:
			return s.initObject(latest, 0), nil
		default:
			select {
			case <-st.wait:
			case <-ctx.Done():
				return Object{}, ctx.Err()
			case <-s.closed:
				return Object{}, ErrClosed
			}
		}
	}
}

// emit turns a step into the object to return; a repeated init is
// skipped.
func (s *Subscription) emit(st *relayStep) (Object, bool) {
	if in := st.entry.init; in != nil {
		if in == s.sentInit {
			return Object{}, false
		}
		return s.initObject(in, st.group.id), true
	}
	return s.deliver(st.entry), true
}

func (s *Subscription) initObject(in *relayInit, group uint64) Object {
	s.sentInit = in
	return Object{Track: s.h.track, Group: group, Init: true, Payload: in.b}
}

func (s *Subscription) deliver(e relayEntry) Object {
	if !e.obj.Created.IsZero() {
		s.r.m.age.WithLabelValues("local").Observe(s.r.now().Sub(e.obj.Created).Seconds())
	}
	return e.obj
}

// Close cancels the subscription; the last subscriber of a track fed from
// upstream closes the upstream subscription.
func (s *Subscription) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.r.release(s.h)
	})
}

// Track returns the subscribed track name.
func (s *Subscription) Track() string { return s.h.track }

// dropped counts an object the hub refused.
func (r *Relay) dropped(track, reason string) {
	r.m.dropped.WithLabelValues(reason).Inc()
	r.log.Debug("relay: object dropped", "track", track, "reason", reason)
}

// validTrack checks a track name: 1..RelayMaxTrack bytes of printable
// UTF-8.
func validTrack(track string) error {
	if track == "" || len(track) > RelayMaxTrack || !utf8.ValidString(track) || !frame.Printable(track) {
		return fmt.Errorf("%w: track name must be 1..%d bytes of printable UTF-8", ErrRelayRefused, RelayMaxTrack)
	}
	return nil
}
