package node

import (
	"context"
	"fmt"

	"github.com/quic-go/quic-go"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/cluster/transport"
	"github.com/classmesh/classmesh/node/origin/remote"
)

// The remote origin (node/origin/remote) is both sides of the
// classmesh-origin/1 protocol. node wires it to the cluster here: the
// client reads the origin-role members' media through remoteCluster, and
// an origin-role node with media of its own serves it with remote.Server,
// registered on the transport.

// remoteCluster implements remote.Cluster over the membership and the
// QUIC transport.
type remoteCluster struct{ c *cluster.Cluster }

var _ remote.Cluster = remoteCluster{}

// Origins returns the live, verified origin-role members other than self.
func (r remoteCluster) Origins() []remote.Peer {
	ms := cluster.Peers(r.c, cluster.RoleOrigin)
	out := make([]remote.Peer, len(ms))
	for i, m := range ms {
		out[i] = remote.Peer{ID: m.ID, Addr: m.QUICAddr}
	}
	return out
}

// OpenStream opens a stream on the cluster transport.
func (r remoteCluster) OpenStream(ctx context.Context, addr, alpn string) (remote.Stream, error) {
	st, err := r.c.Transport().OpenStream(ctx, addr, alpn)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return st, nil
}

// buildRemoteOrigin returns the origin of an edge with no media of its
// own: the cluster's origin-role members, read over QUIC.
func (n *Node) buildRemoteOrigin() (*remote.Origin, error) {
	ro, err := remote.New(remoteCluster{n.cluster}, remote.Config{
		Timeout: n.cfg.OriginTimeout,
		Logger:  n.logger.With("part", "remote-origin"),
	})
	if err != nil {
		return nil, fmt.Errorf("node: remote origin: %w", err)
	}
	return ro, nil
}

// serveOrigin serves this node's own library to the cluster on
// remote.ALPN. Only origin-role nodes with media call it.
func (n *Node) serveOrigin() error {
	cfg := remote.DefaultConfig()
	cfg.Logger = n.logger.With("part", "origin-server")
	cfg.Registerer = n.registry
	s, err := remote.NewServer(cfg, n.origin)
	if err != nil {
		return fmt.Errorf("node: origin server: %w", err)
	}
	n.originServer = s
	n.cluster.Transport().Handle(remote.ALPN, func(ctx context.Context, p transport.PeerInfo, st *quic.Stream) {
		s.HandleStream(ctx, p.NodeID, st)
	})
	return nil
}
