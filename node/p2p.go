package node

import (
	"crypto/sha256"
	"io"
	"net/http"
	"net/netip"

	"github.com/classmesh/classmesh/internal/httpx"
	"github.com/classmesh/classmesh/node/live"
	"github.com/classmesh/classmesh/node/vod"
	"github.com/classmesh/classmesh/p2p"
	"github.com/classmesh/classmesh/p2p/wire"
)

// buildTracker creates the peer-assistance tracker served at /p2p/ws.
func (n *Node) buildTracker() error {
	if n.cfg.P2P == "off" {
		return nil
	}
	tc := p2p.DefaultConfig()
	tc.DefaultPolicy = wire.Policy(n.cfg.P2P)
	tc.Region = n.cfg.Region
	tc.Sites = catalogSites{n}
	tc.MaxPeers = n.cfg.P2PMaxPeers
	tc.SpikeSwarmSize = n.cfg.P2PSpikePeers
	tc.SpikeEgressBytesPerSec = n.cfg.P2PSpikeEgress
	tc.CrossGroup = n.cfg.P2PCrossGroup
	tc.KnownSwarm = n.peers.knownSwarm
	tc.Admit = n.mediaAccess.admitSwarm
	tc.Logger = n.logger.With("part", "p2p")
	tc.Registerer = n.registry
	tr, err := p2p.NewTracker(tc)
	if err != nil {
		return err
	}
	n.tracker, n.peers.tracker = tr, tr
	return nil
}

// peerAssist is the node's glue to the peer-assistance tracker: it
// answers the tracker which swarms this node serves (knownSwarm), feeds
// it the hashes of segments the node sent or packaged and the bytes it
// served over HTTP, and serves /p2p/ws and the hashes.json lists. Every
// method is a no-op or a 404 when peer assistance is off (tracker nil).
//
// Invariant: build sets the fields once (library before buildTracker,
// tracker in buildTracker, live in buildLive); after New they are only
// read.
type peerAssist struct {
	tracker *p2p.Tracker  // nil with --p2p off
	library *vod.Library  // VOD swarms
	live    *live.Manager // live swarms; nil until buildLive
}

// knownSwarm accepts swarms of assets and renditions this node serves.
func (n *peerAssist) knownSwarm(swarm string) bool {
	kind, name, rendition, ok := wire.SplitSwarm(swarm)
	if !ok {
		return false
	}
	switch kind {
	case wire.KindVOD:
		a, ok := n.library.Asset(name)
		if !ok {
			return false
		}
		_, ok = a.Rendition(rendition)
		return ok
	case wire.KindLive:
		return n.liveKnown(name, rendition)
	}
	return false
}

// segmentHash publishes the SHA-256 of a segment the edge packaged or
// cached, for peers to verify what they receive from each other.
func (n *peerAssist) segmentHash(swarm string, seq uint64, sum [32]byte, size int64) {
	if n.tracker != nil {
		n.tracker.PutHash(swarm, seq, sum, size)
	}
}

// segmentServed tells the tracker how many segment bytes the edge sent
// over HTTP: offload is measured against this, not against what clients
// claim.
func (n *peerAssist) segmentServed(r *http.Request, swarm string, sent int64) {
	if n.tracker != nil && sent > 0 {
		n.tracker.Served(swarm, clientAddr(r), sent)
	}
}

// serveHashList answers .../{rendition}/hashes.json.
func (n *peerAssist) serveHashList(w http.ResponseWriter, r *http.Request, swarm string) {
	if n.tracker == nil {
		httpx.Error(w, http.StatusNotFound, "peer assistance is off on this node")
		return
	}
	n.tracker.ServeHashList(w, r, swarm)
}

// countingWriter counts body bytes sent, keeping sendfile (ReadFrom) and
// flushing available.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	k, err := c.ResponseWriter.Write(p)
	c.n += int64(k)
	return k, err
}

func (c *countingWriter) ReadFrom(r io.Reader) (int64, error) {
	var k int64
	var err error
	if rf, ok := c.ResponseWriter.(io.ReaderFrom); ok {
		k, err = rf.ReadFrom(r)
	} else {
		k, err = io.Copy(c.ResponseWriter, r)
	}
	c.n += k
	return k, err
}

func (c *countingWriter) Flush() { _ = http.NewResponseController(c.ResponseWriter).Flush() }

func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// catalogSites is the tracker's p2p.Sites: control.SiteView (the
// catalog's sites, most specific network first), none before the catalog
// opens.
type catalogSites struct{ n *Node }

var _ p2p.Sites = catalogSites{}

// Site implements p2p.Sites.
func (s catalogSites) Site(addr netip.Addr) (string, wire.Policy, bool) {
	v := s.n.sites
	if v == nil {
		return "", "", false
	}
	name, pol, ok := v.Site(addr)
	return name, wire.Policy(pol), ok
}

// liveKnown reports whether a live session with that rendition is served
// here.
func (n *peerAssist) liveKnown(session, rendition string) bool {
	if n.live == nil {
		return false
	}
	s, ok := n.live.Lookup(session)
	if !ok {
		return false
	}
	_, ok = s.Track(rendition)
	return ok
}

// liveSegmentDone publishes the hash of a finished live segment and tells
// the tracker that it exists, so fetchers are named at once (the live
// bridge's OnSegment).
func (n *peerAssist) liveSegmentDone(session, rendition string, tr *live.Track, msn int64) {
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

// handleP2P serves the tracker's WebSocket at /p2p/ws.
func (n *peerAssist) handleP2P(w http.ResponseWriter, r *http.Request) {
	if n.tracker == nil {
		httpx.Error(w, http.StatusNotFound, "peer assistance is off on this node (--p2p off)")
		return
	}
	n.tracker.ServeHTTP(w, r)
}
