package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/node/live"
	"github.com/classmesh/classmesh/node/rtmp"
)

// ingest admits RTMP publishers: the stream key must be the key of a
// catalog live session that has not ended and is not live on another node.
type ingest struct{ n *Node }

var _ rtmp.Publisher = ingest{}

func (in ingest) Publish(ctx context.Context, req rtmp.PublishRequest) (rtmp.Stream, error) {
	n := in.n
	sess, err := n.sessionByKey(req.Key)
	if err != nil {
		return nil, err
	}
	if sess.State == control.SessionEnded {
		return nil, fmt.Errorf("node: live session %s has ended", sess.ID)
	}
	if sess.State == control.SessionLive && sess.IngestNode != "" && sess.IngestNode != n.cluster.ID() && n.memberAlive(sess.IngestNode) {
		return nil, fmt.Errorf("%w: session %s is live on node %s", rtmp.ErrAlreadyPublishing, sess.ID, sess.IngestNode)
	}
	pub, err := n.live.mgr.Publish(sess.ID)
	if errors.Is(err, live.ErrAlreadyPublishing) {
		return nil, fmt.Errorf("%w: %v", rtmp.ErrAlreadyPublishing, err)
	}
	if err != nil {
		return nil, err
	}
	n.logger.Info("node: live session publishing", "session", sess.ID, "remote", req.Remote.String())
	n.startPumps(sess.ID)
	go n.markSessionLive(sess.ID)
	return pub, nil
}

// sessionByKey finds the catalog session whose stream key hash matches.
func (n *Node) sessionByKey(key string) (*control.LiveSession, error) {
	sessions, err := n.catalog.Sessions()
	if err != nil {
		return nil, fmt.Errorf("node: read sessions: %w", err)
	}
	hash := control.HashSecret(key)
	for i := range sessions {
		if sessions[i].StreamKeyHash == hash {
			return &sessions[i], nil
		}
	}
	return nil, fmt.Errorf("%w: no live session has this stream key", rtmp.ErrUnknownKey)
}

func (n *Node) memberAlive(id string) bool {
	for _, m := range n.cluster.Members() {
		if m.ID == id && m.State == cluster.StateAlive {
			return true
		}
	}
	return false
}

// startPumps publishes the session's tracks on the relay (once per
// session; a reconnecting publisher continues the same tracks).
func (n *Node) startPumps(id string) {
	n.live.mu.Lock()
	defer n.live.mu.Unlock()
	if _, ok := n.live.pumps[id]; ok {
		return
	}
	sess, ok := n.live.mgr.Lookup(id)
	if !ok {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.live.pumps[id] = cancel
	for _, rend := range liveRenditions {
		pub, err := n.live.relay.Publish(id + "/" + rend)
		if err != nil {
			n.logger.Warn("node: relay publish", "session", id, "rendition", rend, "err", err)
			continue
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			defer pub.Close()
			n.pumpTrack(ctx, sess, rend, pub)
		}()
	}
	n.wg.Add(1)
	go func() { // forget the pump once the session is over
		defer n.wg.Done()
		for !sess.Ended() && ctx.Err() == nil {
			sleepCtx(ctx, 200*time.Millisecond)
		}
		n.live.mu.Lock()
		delete(n.live.pumps, id)
		n.live.mu.Unlock()
	}()
}

// pumpTrack copies every part of one rendition to the relay, in order.
func (n *Node) pumpTrack(ctx context.Context, sess *live.Session, rend string, pub *cluster.TrackPublisher) {
	var tr *live.Track
	for tr == nil {
		var ok bool
		if tr, ok = sess.Track(rend); ok {
			break
		}
		if sess.Ended() || ctx.Err() != nil {
			return
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
	var msn int64
	idx := 0
	if m, ok := tr.LastComplete(); ok {
		msn = m
	}
	var lastInit uint32
	for {
		if err := tr.Wait(ctx, msn, idx); err != nil {
			return // ended, or shutting down
		}
		p, ok := tr.Part(msn, idx)
		if !ok {
			// The segment ended early (publisher gone) or became a gap:
			// move on to the next segment that exists.
			if last, _, ok := tr.Last(); ok && last > msn {
				msn, idx = msn+1, 0
				continue
			}
			sleepCtx(ctx, 10*time.Millisecond)
			continue
		}
		if p.InitID != lastInit {
			if b, ok := tr.Init(p.InitID); ok {
				pub.SetInit(b)
				lastInit = p.InitID
			}
		}
		pub.Write(cluster.Object{Group: uint64(msn), ID: uint64(idx), Header: live.MarshalPartHeader(p), Payload: p.Data})
		if p.SegmentEnd {
			n.liveSegmentDone(sess.ID(), rend, tr, msn)
			msn, idx = msn+1, 0
		} else {
			idx++
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// markSessionLive records in the catalog that the session is live here.
func (n *Node) markSessionLive(id string) {
	n.updateSession(id, func(s *control.LiveSession) bool {
		if s.State == control.SessionLive && s.IngestNode == n.cluster.ID() {
			return false
		}
		s.State, s.IngestNode = control.SessionLive, n.cluster.ID()
		return true
	})
}

// updateSession applies change to the catalog session, retrying on
// conflicts and while the catalog has no leader (bounded).
func (n *Node) updateSession(id string, change func(*control.LiveSession) bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for attempt := 0; ctx.Err() == nil; attempt++ {
		cur, err := n.catalog.Session(id)
		if err != nil {
			n.logger.Warn("node: live session not in the catalog", "session", id, "err", err)
			return
		}
		if !change(cur) {
			return
		}
		payload, _ := json.Marshal(cur)
		_, err = n.forwarder.Apply(ctx, control.Command{Op: control.OpUpdate, Kind: control.KindSession, ID: id, IfMatch: cur.Revision, Payload: payload})
		if err == nil {
			return
		}
		n.logger.Debug("node: update live session", "session", id, "attempt", attempt, "err", err)
		sleepCtx(ctx, time.Duration(attempt+1)*200*time.Millisecond)
	}
	n.logger.Warn("node: could not update the live session in the catalog", "session", id)
}

// onLiveEnd runs when a session published here ends: its recording joins
// the library as an asset and the catalog session points to it.
func (n *Node) onLiveEnd(id string, rec live.Recording) {
	if n.closing.Load() {
		return // shutting down: the recording stays where it is
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		asset := n.adoptRecording(id, rec)
		n.updateSession(id, func(s *control.LiveSession) bool {
			s.State, s.IngestNode = control.SessionEnded, ""
			if asset != "" {
				s.RecordingAssetID = asset
			}
			return true
		})
	}()
}

// adoptRecording moves a finished recording into the library and
// registers it; it returns the asset id, or "" when there is none.
func (n *Node) adoptRecording(id string, rec live.Recording) string {
	if rec.Dir == "" || len(rec.Files) == 0 {
		return ""
	}
	if rec.Err != nil {
		n.logger.Warn("node: recording incomplete", "session", id, "err", rec.Err)
	}
	asset := filepath.Base(rec.Dir)
	dst := filepath.Join(n.cfg.DataDir, recordingsDir, asset)
	meta, _ := json.Marshal(map[string]string{"title": "Recording of " + id})
	if err := os.WriteFile(filepath.Join(rec.Dir, "asset.json"), meta, 0o644); err != nil {
		n.logger.Warn("node: recording metadata", "session", id, "err", err)
	}
	if err := os.Rename(rec.Dir, dst); err != nil {
		n.logger.Error("node: cannot move the recording into the library", "session", id, "err", err)
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.library.Refresh(ctx); err != nil {
		n.logger.Warn("node: index recording", "session", id, "err", err)
	}
	if a, ok := n.library.Asset(asset); !ok || a.Status != "ready" {
		n.logger.Warn("node: recording is not a playable asset", "session", id, "asset", asset)
	}
	n.assetsDirty.Store(true) // registered in the catalog by the raft loop
	n.logger.Info("node: recording is an asset", "session", id, "asset", asset, "duration", rec.Duration)
	return asset
}
