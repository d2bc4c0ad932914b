package livebridge

import (
	"context"
	"encoding/json"
	"time"

	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/node/live"
)

// catalogRetry bounds how long a catalog write is retried (conflicts, no
// leader yet).
const catalogRetry = 30 * time.Second

// markLive records in the catalog that session id is live on this node.
func (b *Bridge) markLive(id string) {
	self := b.cfg.Members.Self().ID
	b.updateSession(id, func(s *control.LiveSession) bool {
		if s.State == control.SessionLive && s.IngestNode == self {
			return false
		}
		s.State, s.IngestNode = control.SessionLive, self
		return true
	})
}

// Ended is live.Config.OnEnd for sessions published here: on a goroutine
// of the bridge, the recording is adopted (Config.Adopt) and the catalog
// session is marked ended and pointed to it. After Close it does nothing
// (shutting down: the recording stays where it is).
func (b *Bridge) Ended(id string, rec live.Recording) {
	b.goTracked(func() {
		var asset string
		if b.cfg.Adopt != nil {
			asset = b.cfg.Adopt(id, rec)
		}
		b.updateSession(id, func(s *control.LiveSession) bool {
			s.State, s.IngestNode = control.SessionEnded, ""
			if asset != "" {
				s.RecordingAssetID = asset
			}
			return true
		})
	})
}

// updateSession applies change to the catalog session, retrying with a
// growing back-off on conflicts and while the catalog has no leader
// (bounded by catalogRetry and by Close).
func (b *Bridge) updateSession(id string, change func(*control.LiveSession) bool) {
	ctx, cancel := context.WithTimeout(b.ctx, catalogRetry)
	defer cancel()
	for attempt := 0; ctx.Err() == nil; attempt++ {
		cur, err := b.cfg.Catalog.Session(id)
		if err != nil {
			b.log.Warn("livebridge: live session not in the catalog", "session", id, "err", err)
			return
		}
		if !change(cur) {
			return
		}
		payload, _ := json.Marshal(cur)
		_, err = b.cfg.Catalog.Apply(ctx, control.Command{Op: control.OpUpdate, Kind: control.KindSession, ID: id, IfMatch: cur.Revision, Payload: payload})
		if err == nil {
			return
		}
		b.log.Debug("livebridge: update live session", "session", id, "attempt", attempt, "err", err)
		waitTimer(ctx, time.Duration(attempt+1)*200*time.Millisecond)
	}
	b.log.Warn("livebridge: could not update the live session in the catalog", "session", id)
}
