package livebridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/classmesh/classmesh/cluster/relay"
	"github.com/classmesh/classmesh/node/live"
)

// remote is a relayed session on an edge: its subscriptions run while
// viewers ask for it (lastSeen) and stop on cancel.
type remote struct {
	cancel   context.CancelFunc
	lastSeen time.Time     // guarded by Bridge.mu
	ready    chan struct{} // closed when any track has a part
	once     sync.Once
}

// maxResubscribe bounds the attempts to subscribe again after a lost
// upstream before a track is given up.
const maxResubscribe = 10

// Attach makes sure this node has the relayed session id, subscribing to
// its tracks through the relay if needed, and waits (at most
// Config.ReadyTimeout) until it has media, so that a viewer's first
// playlist request does not see an empty session. live.ErrNotFound when
// no alive node publishes the session.
func (b *Bridge) Attach(ctx context.Context, id string) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	if r, ok := b.remotes[id]; ok {
		r.lastSeen = time.Now()
		b.mu.Unlock()
		return b.waitReady(ctx, r)
	}
	b.mu.Unlock()
	upstream, ok := b.Upstream(id + "/" + b.cfg.Renditions[0])
	if !ok {
		return fmt.Errorf("%w: no live session %q", live.ErrNotFound, id)
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	r, ok := b.remotes[id]
	if ok { // another request won the race
		b.mu.Unlock()
		return b.waitReady(ctx, r)
	}
	sess, err := b.cfg.Manager.Remote(id)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	sctx, cancel := context.WithCancel(b.ctx)
	r = &remote{cancel: cancel, lastSeen: time.Now(), ready: make(chan struct{})}
	b.remotes[id] = r
	b.log.Info("livebridge: subscribing through the relay", "session", id, "upstream", upstream)
	for _, rend := range b.cfg.Renditions {
		b.goLocked(func() { b.subscribe(sctx, sess, rend, upstream, r) })
	}
	b.mu.Unlock()
	return b.waitReady(ctx, r)
}

// waitReady waits at most ReadyTimeout for the first part.
func (b *Bridge) waitReady(ctx context.Context, r *remote) error {
	t := time.NewTimer(b.cfg.ReadyTimeout)
	defer t.Stop()
	select {
	case <-r.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return ErrNoMedia
	}
}

// dropIdleRemotes ends the relayed sessions nobody asked for within
// IdleTimeout.
func (b *Bridge) dropIdleRemotes(now time.Time) {
	b.mu.Lock()
	var idle []string
	for id, r := range b.remotes {
		if now.Sub(r.lastSeen) > b.cfg.IdleTimeout {
			r.cancel()
			delete(b.remotes, id)
			idle = append(idle, id)
		}
	}
	b.mu.Unlock()
	for _, id := range idle {
		b.log.Info("livebridge: no viewers, unsubscribing", "session", id)
		b.cfg.Manager.Remove(id)
	}
}

// subscribe feeds one rendition of a relayed session until the track
// ends or nobody watches any more. A lost upstream (a relay parent or the
// ingest node restarting) is subscribed again after a back-off, through
// whatever Upstream names then.
func (b *Bridge) subscribe(ctx context.Context, sess *live.Session, rend, upstream string, r *remote) {
	track := sess.ID() + "/" + rend
	var tr *live.Track
	for attempt := 0; ctx.Err() == nil; attempt++ {
		sctx, cancel := context.WithTimeout(ctx, b.cfg.ReadyTimeout)
		sub, err := b.cfg.Relay.Subscribe(sctx, upstream, track)
		cancel()
		if err == nil {
			attempt = 0
			err = b.copyTrack(ctx, sub, track, sess, rend, &tr, r)
			sub.Close()
		}
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, relay.ErrTrackEnded):
			if tr != nil {
				tr.End()
			}
			if rend == b.cfg.Renditions[0] {
				_ = b.cfg.Manager.End(sess.ID())
			}
			return
		case errors.Is(err, relay.ErrTrackNotFound) || attempt >= maxResubscribe:
			b.log.Warn("livebridge: relay subscription", "track", track, "err", err)
			if tr != nil {
				tr.End()
			}
			return
		}
		b.log.Info("livebridge: relay upstream lost, subscribing again", "track", track, "err", err)
		if !waitTimer(ctx, time.Duration(attempt+1)*200*time.Millisecond) {
			return
		}
		if up, ok := b.Upstream(track); ok {
			upstream = up
		}
	}
}

// copyTrack copies objects from sub into the session's track (created on
// the first object) until the subscription fails.
func (b *Bridge) copyTrack(ctx context.Context, sub TrackReader, track string, sess *live.Session, rend string, tr **live.Track, r *remote) error {
	for {
		o, err := sub.Next(ctx)
		if err != nil {
			return err
		}
		if *tr == nil {
			t, err := sess.AddTrack(rend)
			if err != nil {
				return fmt.Errorf("livebridge: add track %s: %w", track, err)
			}
			*tr = t
		}
		if o.Init {
			if err := (*tr).PutInit(append([]byte(nil), o.Payload...)); err != nil {
				b.log.Warn("livebridge: init from the relay", "track", track, "err", err)
			}
			continue
		}
		p, err := live.UnmarshalPartHeader(o.Header)
		if err != nil {
			b.log.Warn("livebridge: bad part header from the relay", "track", track, "err", err)
			continue
		}
		p.Data = append([]byte(nil), o.Payload...)
		if err := (*tr).PutPart(p); err != nil {
			b.log.Debug("livebridge: part refused", "track", track, "err", err)
			continue
		}
		if !o.Created.IsZero() {
			b.m.relayDelay.Observe(time.Since(o.Created).Seconds())
		}
		r.once.Do(func() { close(r.ready) })
		if p.SegmentEnd && b.cfg.OnSegment != nil {
			b.cfg.OnSegment(sess.ID(), rend, *tr, p.MSN)
		}
	}
}
