package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/node/live"
)

// attachRemote makes sure this node has the relay-fed session id, and
// waits (bounded) until it has media, so that the first playlist request
// of a viewer does not see an empty session.
func (n *Node) attachRemote(ctx context.Context, id string) error {
	n.live.mu.Lock()
	r, ok := n.live.remote[id]
	if ok {
		r.lastSeen = time.Now()
		n.live.mu.Unlock()
		return waitReady(ctx, r)
	}
	n.live.mu.Unlock()
	upstream, ok := n.liveUpstream(id + "/" + live.RenditionVideo)
	if !ok {
		return fmt.Errorf("%w: no live session %q", live.ErrNotFound, id)
	}
	n.live.mu.Lock()
	if r, ok = n.live.remote[id]; ok { // another request won the race
		n.live.mu.Unlock()
		return waitReady(ctx, r)
	}
	sess, err := n.live.mgr.Remote(id)
	if err != nil {
		n.live.mu.Unlock()
		return err
	}
	sctx, cancel := context.WithCancel(context.Background())
	r = &remoteLive{cancel: cancel, lastSeen: time.Now(), ready: make(chan struct{})}
	n.live.remote[id] = r
	n.live.mu.Unlock()
	n.logger.Info("node: live: subscribing through the relay", "session", id, "upstream", upstream)
	for _, rend := range liveRenditions {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.feedTrack(sctx, sess, rend, upstream, r)
		}()
	}
	return waitReady(ctx, r)
}

// waitReady waits at most a few seconds for the first part.
func waitReady(ctx context.Context, r *remoteLive) error {
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-r.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return errors.New("node: live: no media from the relay yet")
	}
}

// feedTrack subscribes to one rendition and feeds a remote session's
// track, until the track ends or nobody watches any more. A lost upstream
// (a relay parent or the ingest node restarting) is subscribed again,
// through whatever liveUpstream names then.
func (n *Node) feedTrack(ctx context.Context, sess *live.Session, rend, upstream string, r *remoteLive) {
	track := sess.ID() + "/" + rend
	var tr *live.Track
	for attempt := 0; ctx.Err() == nil; attempt++ {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		sub, err := n.live.relay.Subscribe(sctx, upstream, track)
		cancel()
		if err == nil {
			attempt = 0
			err = n.readTrack(ctx, sub, sess, rend, &tr, r)
			sub.Close()
		}
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, cluster.ErrTrackEnded):
			if tr != nil {
				tr.End()
			}
			if rend == live.RenditionVideo {
				_ = n.live.mgr.End(sess.ID())
			}
			return
		case errors.Is(err, cluster.ErrTrackNotFound) || attempt >= 10:
			n.logger.Warn("node: live: relay subscription", "track", track, "err", err)
			if tr != nil {
				tr.End()
			}
			return
		}
		n.logger.Info("node: live: relay upstream lost, subscribing again", "track", track, "err", err)
		sleepCtx(ctx, time.Duration(attempt+1)*200*time.Millisecond)
		if up, ok := n.liveUpstream(track); ok {
			upstream = up
		}
	}
}

// readTrack copies objects from sub into the session's track (created on
// the first object) until the subscription fails.
func (n *Node) readTrack(ctx context.Context, sub *cluster.Subscription, sess *live.Session, rend string, tr **live.Track, r *remoteLive) error {
	track := sub.Track()
	for {
		o, err := sub.Next(ctx)
		if err != nil {
			return err
		}
		if *tr == nil {
			t, err := sess.AddTrack(rend)
			if err != nil {
				return fmt.Errorf("node: live: add track %s: %w", track, err)
			}
			*tr = t
		}
		if o.Init {
			if err := (*tr).PutInit(append([]byte(nil), o.Payload...)); err != nil {
				n.logger.Warn("node: live: init from the relay", "track", track, "err", err)
			}
			continue
		}
		p, err := live.UnmarshalPartHeader(o.Header)
		if err != nil {
			n.logger.Warn("node: live: bad part header from the relay", "track", track, "err", err)
			continue
		}
		p.Data = append([]byte(nil), o.Payload...)
		if err := (*tr).PutPart(p); err != nil {
			n.logger.Debug("node: live: part refused", "track", track, "err", err)
			continue
		}
		if !o.Created.IsZero() {
			n.live.relayDelay.Observe(time.Since(o.Created).Seconds())
		}
		r.once.Do(func() { close(r.ready) })
		if p.SegmentEnd {
			n.liveSegmentDone(sess.ID(), rend, *tr, p.MSN)
		}
	}
}

// liveUpstream finds where this node subscribes to a live track it does
// not publish: its --relay-parent; else, when the ingest node is in
// another region, the region's relay node (rendezvous owner of the track
// among the region's edges; the owner itself subscribes to the ingest
// node); else the ingest node, which the catalog session names.
func (n *Node) liveUpstream(track string) (string, bool) {
	id, _, _ := strings.Cut(track, "/")
	rec, err := n.catalog.Session(id)
	if err != nil || rec.State != control.SessionLive || rec.IngestNode == "" || rec.IngestNode == n.cluster.ID() {
		return "", false
	}
	var ingest *cluster.Member
	members := n.cluster.Members()
	for i := range members {
		if members[i].ID == rec.IngestNode && members[i].State == cluster.StateAlive {
			ingest = &members[i]
		}
	}
	if ingest == nil {
		return "", false
	}
	if p := n.cfg.RelayParent; p != "" {
		for _, m := range members {
			if (m.ID == p || m.QUICAddr == p) && m.State == cluster.StateAlive && !m.Self {
				return m.QUICAddr, true
			}
		}
		n.logger.Warn("node: --relay-parent is not an alive member; using the ingest node", "parent", p)
	}
	self := n.cluster.Self()
	if ingest.Region != self.Region {
		// The region's relay: the ring owner of the track in this region
		// (the owner itself subscribes to the ingest node).
		if owner, ok := n.ring.Ring().Owner("live/"+track, self.Region); ok && owner.ID != self.ID && owner.Region == self.Region {
			return owner.QUICAddr, true
		}
	}
	return ingest.QUICAddr, true
}
