package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/classmesh/classmesh/cache"
	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/node/vod"
	"github.com/prometheus/client_golang/prometheus"
)

// buildCluster creates the membership and node-to-node transport. The
// cluster is not started until Start.
func (n *Node) buildCluster() error {
	cfg := n.cfg
	c, err := cluster.New(cluster.Config{
		NodeID:        cfg.NodeID,
		DataDir:       filepath.Join(cfg.DataDir, "cluster"),
		GossipAddr:    cfg.GossipAddr,
		AdvertiseAddr: cfg.AdvertiseAddr,
		QUICAddr:      cfg.QUICAddr,
		Join:          cfg.Join,
		Roles:         n.advertisedRoles(),
		Region:        cfg.Region,
		HTTPAddr:      n.URL(),
		Secret:        cfg.ClusterSecret,
		TLSCA:         cfg.TLSCA,
		TLSCAKey:      cfg.TLSCAKey,
		GossipProfile: cfg.GossipProfile,
		Version:       cfg.Version,
		LoadFunc:      n.load,
		Logger:        n.logger.With("part", "cluster"),
		Registerer:    n.registry,
	})
	if err != nil {
		return fmt.Errorf("node: cluster: %w", err)
	}
	n.cluster = c
	n.ring = cluster.NewRingKeeper(c, cluster.DefaultRingConfig())
	n.unsubscribe = c.Subscribe(eventFunc(n.handleClusterEvent))
	return nil
}

// hasRole reports whether the node was configured with role r (nil Roles
// means all three). Local duties follow the configured roles; what other
// nodes are told follows advertisedRoles.
func (n *Node) hasRole(r cluster.Role) bool {
	return len(n.cfg.Roles) == 0 || slices.Contains(n.cfg.Roles, r)
}

// hasMedia reports whether the node has a media library of its own.
func (c Config) hasMedia() bool { return c.MediaDir != "" || c.OriginURL != "" || c.Demo }

// advertisedRoles returns the roles gossiped to the cluster: the configured
// roles, without origin when the node has no media of its own. Other nodes
// read a member's origin role as "serves classmesh-origin/1"; a node with
// the default roles but no --media, --origin-url or --demo serves nothing
// there, and advertising it made every other node dial it and be refused
// once a minute (issue 11, finding 8). Such a node keeps its local origin
// duties (RTMP ingest).
func (n *Node) advertisedRoles() []cluster.Role {
	roles := n.cfg.Roles
	if len(roles) == 0 {
		roles = []cluster.Role{cluster.RoleEdge, cluster.RoleOrigin, cluster.RoleControl}
	}
	if n.cfg.hasMedia() || !slices.Contains(roles, cluster.RoleOrigin) {
		return roles
	}
	n.logger.Info("node: origin role without media (--media, --origin-url or --demo): not advertising the origin service")
	return slices.DeleteFunc(slices.Clone(roles), func(r cluster.Role) bool { return r == cluster.RoleOrigin })
}

// buildFill wires the fill protocol: this node asks owners for segments
// (client) and answers as an owner (server); an origin-role node with media
// of its own also serves byte ranges of it to the cluster.
func (n *Node) buildFill() error {
	fc := cluster.DefaultFillConfig()
	fc.FirstByteTimeout = n.cfg.PeerTimeout
	fc.Logger = n.logger.With("part", "fill")
	fc.Registerer = n.registry
	n.fillForwards = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "classmesh_fill_forwards_total",
		Help: "Fill requests from another node for a segment this node neither owns in its view of the ring nor holds, forwarded once to the owner it sees (rings disagreed).",
	})
	if err := n.registry.Register(n.fillForwards); err != nil {
		return fmt.Errorf("node: fill metrics: %w", err)
	}
	var err error
	if n.fillClient, err = cluster.NewFillClient(n.cluster.Transport(), fc); err != nil {
		return fmt.Errorf("node: fill client: %w", err)
	}
	if n.fillServer, err = cluster.NewFillServer(fc, n); err != nil {
		return fmt.Errorf("node: fill server: %w", err)
	}
	n.fillServer.Register(n.cluster.Transport())
	if !n.remote && n.cluster.Self().Has(cluster.RoleOrigin) {
		return n.serveOrigin()
	}
	return nil
}

type eventFunc func(cluster.Event)

func (f eventFunc) HandleClusterEvent(e cluster.Event) { f(e) }

// handleClusterEvent keeps the owner ring current and, on an edge that
// reads media from the cluster, rescans when an origin comes or goes.
func (n *Node) handleClusterEvent(e cluster.Event) {
	n.ring.HandleClusterEvent(e)
	if n.remote && e.Type != cluster.EventUpdate && e.Member.Has(cluster.RoleOrigin) && !e.Member.Self {
		n.requestRefresh()
	}
}

// segmentFill returns the fill function for a segment a learner asked this
// node for: ownerFill as the first hop.
func (n *Node) segmentFill(a *vod.Asset, rend *vod.Rendition, num int, object string) cache.FillFunc {
	return n.ownerFill(a, rend, num, object, fillHop{region: n.cluster.Self().Region})
}

// fillHop says where a fill request stands: hop is the Hop of the request
// being answered (0 for a learner's request to this node), requester the
// node that sent it, region the region it is served in.
type fillHop struct {
	hop       uint8
	requester string
	region    string
}

// ownerFill returns the fill function for a cold segment. When it runs it
// asks the segment's owner in this node's view of the ring, or reads the
// origin when this node is the owner. When the owner fails, this node
// packages the segment from the origin itself; if the owner had already
// sent part of the body, only the rest is written (packaging is
// deterministic, so the bytes are the same), and the learner's response
// goes on without a break.
//
// Exactly one fill per segment while rings disagree (cluster/DESIGN.md,
// "Fills while the ring converges"): a node asked by another node (hop 1)
// for a segment it does not own in its own view, and does not hold (the
// cache answers hits before any fill runs), forwards the request once to
// the owner it sees (hop 2) instead of reading the origin, unless that
// owner is the requester itself. A hop-2 request is always answered
// locally, so requests never loop.
func (n *Node) ownerFill(a *vod.Asset, rend *vod.Rendition, num int, object string, from fillHop) cache.FillFunc {
	return func(ctx context.Context, w io.Writer) error {
		ring := n.ring.Ring()
		req := cluster.FillRequest{
			Hop:         from.hop + 1,
			Epoch:       ring.Epoch(),
			Requester:   n.cluster.ID(),
			Region:      from.region,
			AssetID:     a.ID,
			RenditionID: rend.ID,
			Object:      object,
			Source:      rend.SourceID,
		}
		owner, ok := ring.Owner(req.Key(), req.Region)
		if ok && owner.ID != n.cluster.ID() && owner.ID != from.requester && req.Hop <= cluster.MaxFillHops {
			cache.SetFillSource(ctx, "peer")
			if from.hop > 0 {
				n.fillForwards.Inc()
				n.logger.Debug("node: not the owner of a requested segment; forwarding once",
					"key", req.Key(), "requester", from.requester, "owner", owner.ID)
			}
			res, err := n.fillClient.Fetch(ctx, owner, req, w)
			if err == nil {
				return nil
			}
			if ctx.Err() != nil {
				return fmt.Errorf("node: owner %s: %w", owner.ID, err)
			}
			n.logger.Warn("node: owner did not serve the segment; filling from the origin",
				"owner", owner.ID, "key", req.Key(), "after_bytes", res.Bytes, "err", err)
			cache.SetFillSource(ctx, "origin")
			if res.Bytes > 0 {
				w = &skipWriter{w: w, skip: res.Bytes}
			}
		}
		return n.library.WriteSegment(ctx, a, rend, num, w)
	}
}

// skipWriter drops the first skip bytes written to it and passes the rest
// on: it resumes a body that another writer had started.
type skipWriter struct {
	w    io.Writer
	skip int64
}

func (s *skipWriter) Write(p []byte) (int, error) {
	if s.skip >= int64(len(p)) {
		s.skip -= int64(len(p))
		return len(p), nil
	}
	rest := p[s.skip:]
	s.skip = 0
	if _, err := s.w.Write(rest); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ServeFill answers another node's fill request: it serves from this
// node's cache and, on a miss, runs ownerFill for the request's hop: the
// origin when this node owns the segment in its view (or the request was
// already forwarded once, or came from the owner this node sees), else one
// forward to the owner it sees.
func (n *Node) ServeFill(ctx context.Context, req cluster.FillRequest, w cluster.FillResponseWriter) error {
	refuse := func(st cluster.FillStatus, format string, args ...any) error {
		return &cluster.FillStatusError{Status: st, Message: fmt.Sprintf(format, args...)}
	}
	a, ok := n.library.Asset(req.AssetID)
	if !ok {
		return refuse(cluster.FillNotFound, "no asset %q", req.AssetID)
	}
	if a.Status != vod.StatusReady {
		return refuse(cluster.FillUnprocessable, "asset %q failed: %s", a.ID, a.Reason)
	}
	rend, ok := a.Rendition(req.RenditionID)
	if !ok {
		return refuse(cluster.FillNotFound, "no rendition %q", req.RenditionID)
	}
	if req.Source != "" && req.Source != rend.SourceID {
		return refuse(cluster.FillNotFound, "source identity %q differs from %q here", req.Source, rend.SourceID)
	}
	if !strings.HasPrefix(req.Object, "seg-") || !strings.HasSuffix(req.Object, ".m4s") {
		return refuse(cluster.FillNotFound, "no object %q", req.Object)
	}
	num, err := parseSegmentNumber(req.Object)
	if err != nil || num >= len(rend.Segments) {
		return refuse(cluster.FillNotFound, "no segment %q", req.Object)
	}
	size, _ := rend.SegmentSize(num)
	key := n.library.CacheKey(a, rend, req.Object)
	e, err := n.cache.Get(ctx, key, size, n.ownerFill(a, rend, num, req.Object,
		fillHop{hop: max(req.Hop, 1), requester: req.Requester, region: req.Region}))
	if err != nil {
		return refuse(fillStatus(err), "%v", err)
	}
	defer e.Release()
	hdr := cluster.FillHeader{Status: cluster.FillOK, Size: size}
	if sum, ok := e.SHA256(); ok {
		hdr.SHA256 = sum[:]
	}
	if err := w.WriteHeader(hdr); err != nil {
		return err
	}
	if body := e.Bytes(); body != nil {
		_, err = w.Write(body)
		return err
	}
	var src io.Reader
	if rs := e.ReadSeeker(); rs != nil {
		src = rs
	} else {
		rd := e.NewReader(ctx)
		defer rd.Close()
		src = rd
	}
	_, err = io.Copy(w, src)
	return err
}

func fillStatus(err error) cluster.FillStatus {
	switch {
	case errors.Is(err, vod.ErrAssetFailed):
		return cluster.FillUnprocessable
	case errors.Is(err, vod.ErrNotFound):
		return cluster.FillNotFound
	}
	return cluster.FillError
}

// load reports this node's load for gossip metadata.
func (n *Node) load() cluster.Load {
	l := cluster.Load{EgressBPS: n.egress.rate(), CapacityBPS: n.cfg.CapacityBPS}
	if n.cache != nil && n.cfg.DiskCacheBytes > 0 {
		l.CacheFullness = float32(n.cache.Stats().DiskBytes) / float32(n.cfg.DiskCacheBytes)
	}
	return l
}

// egressMeter turns a byte counter into a bit rate between two readings.
type egressMeter struct {
	bytes atomic.Uint64
	mu    sync.Mutex
	last  uint64
	at    time.Time
}

func (m *egressMeter) add(n int64) { m.bytes.Add(uint64(n)) }

func (m *egressMeter) rate() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	now, total := time.Now(), m.bytes.Load()
	var bps uint64
	if !m.at.IsZero() {
		if dt := now.Sub(m.at).Seconds(); dt > 0 {
			bps = uint64(float64(total-m.last) * 8 / dt)
		}
	}
	m.last, m.at = total, now
	return bps
}

// Cluster exposes the membership (tests, the members API).
func (n *Node) Cluster() *cluster.Cluster { return n.cluster }
