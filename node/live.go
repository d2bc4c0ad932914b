package node

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/control/access"
	"github.com/classmesh/classmesh/node/live"
	"github.com/classmesh/classmesh/node/origin"
	"github.com/classmesh/classmesh/node/rtmp"
	"github.com/classmesh/classmesh/p2p/wire"
)

// Live classes (see node/live, node/rtmp and cluster's relay):
//
//   - an origin-role node accepts RTMP at --rtmp; a stream key maps to a
//     catalog live session through the hash the catalog stores;
//   - node/live packages it into LL-HLS tracks and a recording, and every
//     part is published on the relay as an object (track "{session}/{rendition}");
//   - any other node serving /live/{session}/... subscribes to the tracks
//     through the relay (from the ingest node, a --relay-parent or its
//     region's relay node) while it has viewers, and rebuilds the
//     playlists locally;
//   - when the session ends, the recording directory moves into the
//     library as an asset and the catalog session points to it.

// liveRenditions are the tracks of a session (node/live names them).
var liveRenditions = []string{live.RenditionVideo, live.RenditionAudio}

// Directories under the data directory.
const (
	liveRecordingDir = "live-recording" // sessions being recorded
	recordingsDir    = "recordings"     // finished recordings: VOD assets
	recordingsPrefix = "_recordings"    // their path prefix in the library
)

// remoteIdle is how long an edge keeps a relay subscription without viewers.
const remoteIdle = 30 * time.Second

// liveParts holds the node's live machinery.
type liveParts struct {
	mgr     *live.Manager
	relay   *cluster.Relay
	rtmp    *rtmp.Server // nil without ingest
	handler http.Handler

	// relayDelay is the time from a part's publication on the relay at
	// the ingest node to it being listed here (edges only): the relay's
	// whole contribution to latency, one or more hops.
	relayDelay prometheus.Histogram

	mu     sync.Mutex
	pumps  map[string]context.CancelFunc // ingest: session → relay publishing
	remote map[string]*remoteLive        // edge: session → relay subscription
}

type remoteLive struct {
	cancel   context.CancelFunc
	lastSeen time.Time
	ready    chan struct{} // closed when the video (or any) track has a part
	once     sync.Once
}

// recordingsOrigin mounts finished recordings beside the media library.
func (n *Node) recordingsOrigin(o origin.Origin) (origin.Origin, error) {
	dir := filepath.Join(n.cfg.DataDir, recordingsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("node: recordings: %w", err)
	}
	rec, err := origin.NewDir(dir, n.logger.With("part", "recordings"))
	if err != nil {
		return nil, err
	}
	return origin.NewUnion(origin.Mount{Origin: o}, origin.Mount{Prefix: recordingsPrefix, Origin: rec})
}

// buildLive creates the live manager, the relay and (on origin-role
// nodes) the RTMP server.
func (n *Node) buildLive() error {
	lc := live.DefaultConfig()
	lc.PartTarget = n.cfg.LivePartTarget
	lc.SegmentTarget = n.cfg.LiveSegmentTarget
	lc.DVRWindow = n.cfg.LiveDVRWindow
	lc.Grace = n.cfg.LiveGrace
	lc.RecordDir = filepath.Join(n.cfg.DataDir, liveRecordingDir)
	lc.OnEnd = n.onLiveEnd
	lc.Logger = n.logger.With("part", "live")
	lc.Registerer = n.registry
	mgr, err := live.NewManager(lc)
	if err != nil {
		return fmt.Errorf("node: live: %w", err)
	}
	rc := cluster.DefaultRelayConfig()
	rc.Logger = n.logger.With("part", "relay")
	rc.Registerer = n.registry
	relay, err := cluster.NewRelay(n.cluster.Transport(), rc)
	if err != nil {
		_ = mgr.Close()
		return fmt.Errorf("node: relay: %w", err)
	}
	relay.SetResolver(n.liveUpstream)
	delay := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "classmesh_live_relay_delay_seconds",
		Help: "Time from a part's publication on the relay at the ingest node to it being listed in this edge's playlist (all relay hops; clocks of other hosts add their skew).",
		Buckets: []float64{0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.05, 0.075,
			0.1, 0.2, 0.5, 1, 2, 5},
	})
	if err := n.registry.Register(delay); err != nil {
		_ = relay.Close()
		_ = mgr.Close()
		return fmt.Errorf("node: live metrics: %w", err)
	}
	n.live = &liveParts{mgr: mgr, relay: relay, handler: mgr.Handler(), relayDelay: delay,
		pumps: map[string]context.CancelFunc{}, remote: map[string]*remoteLive{}}
	if n.cfg.RTMPAddr == "off" || !n.hasRole(cluster.RoleOrigin) {
		return nil
	}
	addr := n.cfg.RTMPAddr
	if addr == "" {
		addr = DefaultRTMPAddr
	}
	rcfg := rtmp.DefaultConfig()
	rcfg.Addr = addr
	rcfg.Logger = n.logger.With("part", "rtmp")
	rcfg.Registerer = n.registry
	rcfg.PublishTimeout = cmp.Or(n.cfg.RTMPPublishTimeout, rcfg.PublishTimeout)
	rcfg.MaxPendingPerAddr = cmp.Or(n.cfg.RTMPMaxPendingPerAddr, rcfg.MaxPendingPerAddr)
	rcfg.MaxConnections = cmp.Or(n.cfg.RTMPMaxConns, rcfg.MaxConnections)
	srv, err := rtmp.NewServer(rcfg, ingest{n})
	if err != nil {
		return fmt.Errorf("node: rtmp: %w", err)
	}
	n.live.rtmp = srv
	return nil
}

// DefaultRTMPAddr is where origin-role nodes accept RTMP unless --rtmp
// says otherwise.
const DefaultRTMPAddr = ":1935"

// startLive binds the RTMP port and starts the housekeeping loop. A busy
// default port is a warning (several nodes on one host); a busy explicit
// --rtmp address is an error.
func (n *Node) startLive(ctx context.Context) error {
	if srv := n.live.rtmp; srv != nil {
		if err := srv.Start(ctx); err != nil {
			if n.cfg.RTMPAddr != "" {
				return fmt.Errorf("node: rtmp: %w", err)
			}
			n.logger.Warn("node: RTMP ingest disabled: default port unavailable (set --rtmp)", "err", err)
			n.live.rtmp = nil
		} else {
			n.logger.Info("node: RTMP ingest", "addr", srv.Addr().String())
		}
	}
	n.wg.Add(1)
	go n.liveLoop(ctx)
	return nil
}

// RTMPAddr returns the bound RTMP address, or nil without ingest.
func (n *Node) RTMPAddr() net.Addr {
	if n.live == nil || n.live.rtmp == nil {
		return nil
	}
	return n.live.rtmp.Addr()
}

// closeLive stops ingest first (publishers see the server close), then
// the sessions, then the relay.
func (n *Node) closeLive() error {
	if n.live == nil {
		return nil
	}
	var errs []error
	if n.live.rtmp != nil {
		errs = append(errs, n.live.rtmp.Close())
	}
	n.live.mu.Lock()
	for _, c := range n.live.pumps {
		c()
	}
	for _, r := range n.live.remote {
		r.cancel()
	}
	n.live.mu.Unlock()
	errs = append(errs, n.live.mgr.Close(), n.live.relay.Close())
	return errors.Join(errs...)
}

// liveLoop ends local sessions that the catalog says have ended (POST
// /api/v1/sessions/{id}/end) and drops relay subscriptions without viewers.
func (n *Node) liveLoop(ctx context.Context) {
	defer n.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, s := range n.live.mgr.Sessions() {
			if s.Remote() || s.Ended() {
				continue
			}
			if rec, err := n.catalog.Session(s.ID()); err == nil && rec.State == "ended" {
				n.logger.Info("node: live session ended through the API", "session", s.ID())
				_ = n.live.mgr.End(s.ID())
			}
		}
		n.dropIdleRemotes()
	}
}

func (n *Node) dropIdleRemotes() {
	now := time.Now()
	n.live.mu.Lock()
	defer n.live.mu.Unlock()
	for id, r := range n.live.remote {
		if now.Sub(r.lastSeen) > remoteIdle {
			n.logger.Info("node: live: no viewers, unsubscribing", "session", id)
			r.cancel()
			delete(n.live.remote, id)
			n.live.mgr.Remove(id)
		}
	}
}

// handleLive serves /live/{session}/...: local sessions directly, others
// after subscribing to their tracks through the relay.
//
// The same URLs under /t/{token}/live/... carry a playback token; every
// request is checked by the access policy first (private courses need a
// course, or session, token).
func (n *Node) handleLive(w http.ResponseWriter, r *http.Request) {
	if tok := r.PathValue("token"); tok != "" {
		// Serve /t/{token}/live/... as /live/...: the playlists' URLs are
		// relative, so the player keeps the prefix on every request.
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path = strings.TrimPrefix(r.URL.Path, "/t/"+tok)
		u.RawPath = ""
		r2.URL = &u
		r = r2
	}
	rest := strings.TrimPrefix(r.URL.Path, "/live/")
	id, _, _ := strings.Cut(rest, "/")
	if !validID(id) {
		httpError(w, http.StatusBadRequest, "bad session id")
		return
	}
	if !n.authorize(w, r, pathLive, access.Request{Session: id}) {
		return
	}
	if strings.HasSuffix(rest, "/hashes.json") {
		if swarm, ok := wire.ParseSwarm(r.URL.Path); ok {
			n.serveHashList(w, r, swarm)
			return
		}
	}
	if s, ok := n.live.mgr.Lookup(id); !ok || s.Remote() {
		if err := n.attachRemote(r.Context(), id); err != nil {
			code := http.StatusServiceUnavailable
			if errors.Is(err, live.ErrNotFound) {
				code = http.StatusNotFound
			}
			httpError(w, code, err.Error())
			return
		}
	}
	n.live.handler.ServeHTTP(w, r)
}

// liveKnown reports whether a live session with that rendition is served
// here (for the tracker's swarms).
func (n *Node) liveKnown(session, rendition string) bool {
	if n.live == nil {
		return false
	}
	s, ok := n.live.mgr.Lookup(session)
	if !ok {
		return false
	}
	_, ok = s.Track(rendition)
	return ok
}

// liveSegmentDone publishes the hash of a finished live segment and tells
// the tracker that it exists, so fetchers are named at once.
func (n *Node) liveSegmentDone(session, rendition string, tr *live.Track, msn int64) {
	if n.tracker == nil || msn < 0 {
		return
	}
	parts, ok := tr.Segment(msn)
	if !ok {
		return
	}
	h := sha256.New()
	var size int64
	for _, p := range parts {
		h.Write(p)
		size += int64(len(p))
	}
	var sum [32]byte
	h.Sum(sum[:0])
	swarm := wire.SwarmID(wire.KindLive, session, rendition)
	n.tracker.PutHash(swarm, uint64(msn), sum, size)
	n.tracker.SegmentAvailable(swarm, uint64(msn))
}
