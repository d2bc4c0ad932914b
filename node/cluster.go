package node

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/cluster/ring"
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
	n.ring = ring.NewRingKeeper(c, ring.DefaultRingConfig())
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
