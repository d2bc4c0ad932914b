package livebridge

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/classmesh/classmesh/cluster/relay"
	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/node/live"
	"github.com/classmesh/classmesh/node/rtmp"
)

var _ rtmp.Publisher = (*Bridge)(nil)

// feed publishes one local session's tracks on the relay. done closes
// when every rendition's feeder has returned (and its relay track ended).
type feed struct {
	sess *live.Session
	done chan struct{}
}

// Publish admits an RTMP publisher: the stream key must be the key of a
// catalog live session that has not ended and is not live on another
// alive node. The session's tracks are then published on the relay and
// the catalog session is marked live here.
func (b *Bridge) Publish(ctx context.Context, req rtmp.PublishRequest) (rtmp.Stream, error) {
	sess, err := b.sessionByKey(req.Key)
	if err != nil {
		return nil, err
	}
	self := b.cfg.Members.Self().ID
	if sess.State == control.SessionEnded {
		return nil, fmt.Errorf("livebridge: live session %s has ended", sess.ID)
	}
	if sess.State == control.SessionLive && sess.IngestNode != "" && sess.IngestNode != self && b.alive(sess.IngestNode) != nil {
		return nil, fmt.Errorf("%w: session %s is live on node %s", rtmp.ErrAlreadyPublishing, sess.ID, sess.IngestNode)
	}
	pub, err := b.cfg.Manager.Publish(sess.ID)
	if errors.Is(err, live.ErrAlreadyPublishing) {
		return nil, fmt.Errorf("%w: %v", rtmp.ErrAlreadyPublishing, err)
	}
	if err != nil {
		return nil, err
	}
	b.log.Info("livebridge: live session publishing", "session", sess.ID, "remote", req.Remote.String())
	b.feed(pub.Session())
	id := sess.ID
	b.goTracked(func() { b.markLive(id) })
	return pub, nil
}

// sessionByKey finds the catalog session whose stream key hash matches.
func (b *Bridge) sessionByKey(key string) (*control.LiveSession, error) {
	sessions, err := b.cfg.Catalog.Sessions()
	if err != nil {
		return nil, fmt.Errorf("livebridge: read sessions: %w", err)
	}
	hash := control.HashSecret(key)
	for i := range sessions {
		if sessions[i].StreamKeyHash == hash {
			return &sessions[i], nil
		}
	}
	return nil, fmt.Errorf("%w: no live session has this stream key", rtmp.ErrUnknownKey)
}

// feed starts publishing sess on the relay, once per session: a
// publisher that reconnects within the grace window continues the same
// tracks. The relay tracks exist when feed returns, unless the session
// replaces an ended one of the same ID: then they are published once the
// old session's relay tracks are closed.
func (b *Bridge) feed(sess *live.Session) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	prev := b.feeds[sess.ID()]
	if prev != nil && prev.sess == sess {
		return
	}
	f := &feed{sess: sess, done: make(chan struct{})}
	b.feeds[sess.ID()] = f
	var pubs map[string]TrackWriter
	if prev == nil {
		pubs = b.publishTracks(sess)
	}
	b.goLocked(func() { b.runFeed(f, prev, pubs) })
}

// publishTracks publishes the relay track of every rendition of sess.
func (b *Bridge) publishTracks(sess *live.Session) map[string]TrackWriter {
	pubs := map[string]TrackWriter{}
	for _, rend := range b.cfg.Renditions {
		track := sess.ID() + "/" + rend
		pub, err := b.cfg.Relay.Publish(track)
		if err != nil {
			b.log.Warn("livebridge: relay publish", "track", track, "err", err)
			continue
		}
		pubs[rend] = pub
	}
	return pubs
}

// runFeed runs one pump per rendition and forgets f when they return.
// With prev, it first waits for prev's relay tracks to close.
func (b *Bridge) runFeed(f *feed, prev *feed, pubs map[string]TrackWriter) {
	defer close(f.done)
	defer func() {
		b.mu.Lock()
		if b.feeds[f.sess.ID()] == f {
			delete(b.feeds, f.sess.ID())
		}
		b.mu.Unlock()
	}()
	if prev != nil {
		select {
		case <-prev.done:
		case <-b.ctx.Done():
			return
		}
		pubs = b.publishTracks(f.sess)
	}
	var wg sync.WaitGroup
	for rend, pub := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer pub.Close()
			b.pump(f.sess, rend, pub)
		}()
	}
	wg.Wait()
}

// pump copies every init change and part of one rendition to the relay,
// in order, until the track ends or the bridge closes.
func (b *Bridge) pump(sess *live.Session, rend string, pub TrackWriter) {
	tr, err := sess.WaitTrack(b.ctx, rend)
	if err != nil {
		return // the session ended without this rendition, or closing
	}
	c := tr.Cursor(live.FromOldest) // the pump starts with the session: everything
	for {
		ev, err := c.Next(b.ctx)
		if err != nil {
			return // ended, or closing
		}
		switch ev.Kind {
		case live.EventInit:
			pub.SetInit(ev.Init)
		case live.EventPart:
			pub.Write(relay.Object{Group: uint64(ev.At.MSN), ID: uint64(ev.At.Index),
				Header: live.MarshalPartHeader(ev.Part), Payload: ev.Part.Data})
		case live.EventSegmentEnd:
			if !ev.Gap && b.cfg.OnSegment != nil {
				b.cfg.OnSegment(sess.ID(), rend, tr, ev.At.MSN)
			}
		case live.EventSkip:
			b.log.Warn("livebridge: relay feeder fell behind the DVR window", "track", sess.ID()+"/"+rend,
				"from", ev.From.String(), "to", ev.At.String())
		}
	}
}
