package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/cluster/relay"
	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/control/access"
	"github.com/classmesh/classmesh/internal/httpx"
	"github.com/classmesh/classmesh/node/internal/livebridge"
	"github.com/classmesh/classmesh/node/live"
	"github.com/classmesh/classmesh/node/rtmp"
	"github.com/classmesh/classmesh/p2p/wire"
)

// Live classes (see node/live, node/internal/livebridge, node/rtmp and
// cluster's relay):
//
//   - an origin-role node accepts RTMP at --rtmp; the live bridge admits a
//     publisher whose stream key maps to a catalog live session;
//   - node/live packages it into LL-HLS tracks and a recording, and the
//     bridge publishes every part on the relay as an object (track
//     "{session}/{rendition}"), reading the tracks with a blocking cursor;
//   - any other node serving /live/{session}/... subscribes to the tracks
//     through the bridge (from the ingest node, a --relay-parent or its
//     region's relay node) while it has viewers, and rebuilds the
//     playlists locally;
//   - when the session ends, the recording directory moves into the
//     library as an asset (adoptRecording) and the catalog session points
//     to it.
//
// node only builds, starts and closes these parts and routes to them.

// Directories under the data directory.
const (
	liveRecordingDir = "live-recording" // sessions being recorded
	recordingsDir    = "recordings"     // finished recordings: VOD assets
	recordingsPrefix = "_recordings"    // their path prefix in the library
)

// liveParts holds the node's live machinery and serves /live/ through it
// (handleLive): the access gate first, then hash lists from the
// peer-assistance glue, else the session's LL-HLS, attaching remote
// sessions through the bridge.
type liveParts struct {
	mgr     *live.Manager
	relay   *relay.Relay
	bridge  *livebridge.Bridge
	rtmp    *rtmp.Server // nil without ingest
	handler http.Handler
	access  *mediaAccess
	peers   *peerAssist
}

// buildLive creates the live manager, the relay, the bridge between them
// and (on origin-role nodes) the RTMP server. Nothing starts here.
func (n *Node) buildLive() error {
	lc := live.DefaultConfig()
	lc.PartTarget = n.cfg.LivePartTarget
	lc.SegmentTarget = n.cfg.LiveSegmentTarget
	lc.DVRWindow = n.cfg.LiveDVRWindow
	lc.Grace = n.cfg.LiveGrace
	lc.RecordDir = filepath.Join(n.cfg.DataDir, liveRecordingDir)
	lc.OnEnd = func(id string, rec live.Recording) { n.live.bridge.Ended(id, rec) }
	lc.Logger = n.logger.With("part", "live")
	lc.Registerer = n.registry
	mgr, err := live.NewManager(lc)
	if err != nil {
		return fmt.Errorf("node: live: %w", err)
	}
	rc := relay.DefaultRelayConfig()
	rc.Logger = n.logger.With("part", "relay")
	rc.Registerer = n.registry
	rl, err := relay.NewRelay(n.cluster.Transport(), rc)
	if err != nil {
		_ = mgr.Close()
		return fmt.Errorf("node: relay: %w", err)
	}
	bridge, err := livebridge.New(livebridge.Config{
		Manager:     mgr,
		Relay:       livebridge.ClusterRelay(rl),
		Catalog:     liveCatalog{n},
		Members:     liveMembers{n},
		RelayParent: n.cfg.RelayParent,
		Adopt:       n.adoptRecording,
		OnSegment:   n.peers.liveSegmentDone,
		Logger:      n.logger.With("part", "livebridge"),
		Registerer:  n.registry,
	})
	if err != nil {
		_ = rl.Close()
		_ = mgr.Close()
		return fmt.Errorf("node: live bridge: %w", err)
	}
	rl.SetResolver(bridge.Upstream)
	n.live = &liveParts{mgr: mgr, relay: rl, bridge: bridge, handler: mgr.Handler(), access: &n.mediaAccess, peers: n.peers}
	n.peers.live = mgr
	if n.cfg.RTMPAddr == "off" || !n.hasRole(cluster.RoleOrigin) {
		return nil
	}
	rcfg := rtmp.DefaultConfig()
	rcfg.Addr = cmp.Or(n.cfg.RTMPAddr, DefaultRTMPAddr)
	rcfg.Logger = n.logger.With("part", "rtmp")
	rcfg.Registerer = n.registry
	rcfg.PublishTimeout = cmp.Or(n.cfg.RTMPPublishTimeout, rcfg.PublishTimeout)
	rcfg.MaxPendingPerAddr = cmp.Or(n.cfg.RTMPMaxPendingPerAddr, rcfg.MaxPendingPerAddr)
	rcfg.MaxConnections = cmp.Or(n.cfg.RTMPMaxConns, rcfg.MaxConnections)
	srv, err := rtmp.NewServer(rcfg, bridge)
	if err != nil {
		return fmt.Errorf("node: rtmp: %w", err)
	}
	n.live.rtmp = srv
	return nil
}

// DefaultRTMPAddr is where origin-role nodes accept RTMP unless --rtmp
// says otherwise.
const DefaultRTMPAddr = ":1935"

// startLive starts the bridge, then binds the RTMP port. A busy default
// port is a warning (several nodes on one host); a busy explicit --rtmp
// address is an error.
func (n *Node) startLive(ctx context.Context) error {
	if err := n.live.bridge.Start(ctx); err != nil {
		return fmt.Errorf("node: live bridge: %w", err)
	}
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
// the bridge (its feeders and subscriptions), the sessions, the relay.
func (n *Node) closeLive() error {
	if n.live == nil {
		return nil
	}
	var errs []error
	if n.live.rtmp != nil {
		errs = append(errs, n.live.rtmp.Close())
	}
	errs = append(errs, n.live.bridge.Close(), n.live.mgr.Close(), n.live.relay.Close())
	return errors.Join(errs...)
}

// handleLive serves /live/{session}/...: local sessions directly, others
// after subscribing to their tracks through the relay.
//
// The same URLs under /t/{token}/live/... carry a playback token; every
// request is checked by the access policy first (private courses need a
// course, or session, token).
func (l *liveParts) handleLive(w http.ResponseWriter, r *http.Request) {
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
		httpx.Error(w, http.StatusBadRequest, "bad session id")
		return
	}
	if !l.access.authorize(w, r, pathLive, access.Request{Session: id}) {
		return
	}
	if strings.HasSuffix(rest, "/hashes.json") {
		if swarm, ok := wire.ParseSwarm(r.URL.Path); ok {
			l.peers.serveHashList(w, r, swarm)
			return
		}
	}
	if s, ok := l.mgr.Lookup(id); !ok || s.Remote() {
		if err := l.bridge.Attach(r.Context(), id); err != nil {
			code := http.StatusServiceUnavailable
			if errors.Is(err, live.ErrNotFound) {
				code = http.StatusNotFound
			}
			httpx.Error(w, code, err.Error())
			return
		}
	}
	l.handler.ServeHTTP(w, r)
}

var errCatalogNotOpen = errors.New("node: the catalog is not open yet")

// liveCatalog is the catalog as the live bridge uses it: the local
// replica, and writes forwarded to the leader. It reads n's fields at each
// call (the catalog opens in Start, after buildLive).
type liveCatalog struct{ n *Node }

var _ livebridge.Catalog = liveCatalog{}

func (c liveCatalog) Sessions() ([]control.LiveSession, error) {
	if c.n.catalog == nil {
		return nil, errCatalogNotOpen
	}
	return c.n.catalog.Sessions()
}

func (c liveCatalog) Session(id string) (*control.LiveSession, error) {
	if c.n.catalog == nil { // a relay peer asked before Start opened it
		return nil, errCatalogNotOpen
	}
	return c.n.catalog.Session(id)
}

func (c liveCatalog) Apply(ctx context.Context, cmd control.Command) (*control.Result, error) {
	return c.n.forwarder.Apply(ctx, cmd)
}

// liveMembers is the membership and the ring as the live bridge uses
// them.
type liveMembers struct{ n *Node }

var _ livebridge.Members = liveMembers{}

func (m liveMembers) Self() cluster.Member      { return m.n.cluster.Self() }
func (m liveMembers) Members() []cluster.Member { return m.n.cluster.Members() }

func (m liveMembers) Owner(key, region string) (cluster.Member, bool) {
	return m.n.ring.Ring().Owner(key, region)
}
