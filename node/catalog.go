package node

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/cluster/transport"
	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/control/access"
)

// openCatalog starts this node's raft replica of the catalog and the
// parts of control that work on it: the forwarder of writes to the
// leader, the membership reconciler, and the access and site views. Raft
// runs over the cluster's QUIC transport (its own ALPN), so it is opened
// after the cluster has bound its port: the raft address is the QUIC
// address.
func (n *Node) openCatalog() error {
	self := n.cluster.Self()
	n.raftLayer = cluster.NewRaftLayer(n.cluster.Transport(), self.QUICAddr)
	cfg := control.DefaultConfig()
	cfg.NodeID = self.ID
	cfg.DataDir = filepath.Join(n.cfg.DataDir, "control")
	cfg.StreamLayer = n.raftLayer // the store builds raft's transport on it and closes both
	cfg.Voter = self.Has(cluster.RoleControl)
	// A node that joins nobody starts the catalog itself; joiners are
	// added by the leader (control.Membership).
	cfg.Bootstrap = cfg.Voter && len(n.cfg.Join) == 0 && n.cfg.BootstrapExpect <= 1
	cfg.Logger = n.logger.With("part", "control")
	cfg.Registerer = n.registry
	cfg.MaxBatch = n.cfg.CatalogMaxBatch
	if n.cfg.GossipProfile == cluster.ProfileLocal {
		// Loopback clusters (tests, make cluster): elections in well under
		// a second.
		cfg.HeartbeatTimeout = 300 * time.Millisecond
		cfg.ElectionTimeout = 300 * time.Millisecond
		cfg.LeaderLeaseTimeout = 200 * time.Millisecond
	}
	store, err := control.Open(cfg)
	if err != nil {
		return fmt.Errorf("node: catalog: %w", err)
	}
	n.catalog = store
	// Writes on any node go to the leader over QUIC.
	n.forwarder = control.NewForwarder(store, n.cluster.Transport(), nil, n.logger.With("part", "forward"))
	n.cluster.Transport().Handle(control.ForwardALPN, func(ctx context.Context, p transport.PeerInfo, st *quic.Stream) {
		n.forwarder.HandleStream(ctx, p.NodeID, st)
	})
	n.membership, err = control.NewMembership(store, control.MembershipConfig{
		Members:         raftMembers{n.cluster},
		BootstrapExpect: n.cfg.BootstrapExpect,
		ReapTimeout:     n.cfg.RaftReapTimeout,
		Logger:          n.logger.With("part", "raft-members"),
	})
	if err != nil {
		return fmt.Errorf("node: catalog: %w", err)
	}
	n.mediaAccess.view = access.NewView(store, n.logger.With("part", "access"))
	n.sites = control.NewSiteView(store, n.logger.With("part", "p2p-sites"))
	return nil
}

// raftMembers is the gossip membership as control.Membership reads it:
// every member this node knows, itself included, whatever its state.
type raftMembers struct{ c *cluster.Cluster }

var _ control.Members = raftMembers{}

func (r raftMembers) Members() []control.Member {
	all := r.c.AllMembers()
	out := make([]control.Member, len(all))
	for i, m := range all {
		out[i] = control.Member{ID: m.ID, RaftAddr: m.QUICAddr, Voter: m.Has(cluster.RoleControl),
			State: memberState(m.State), Leaving: m.Leaving, Since: m.Since}
	}
	return out
}

// memberState maps a gossip state to control's. "alive" is verified
// (cluster.StateUnverified is its own state, never added to raft); an
// unknown state is treated as unverified: neither added nor removed.
func memberState(s string) control.MemberState {
	switch s {
	case cluster.StateAlive:
		return control.MemberAlive
	case cluster.StateSuspect:
		return control.MemberSuspect
	case cluster.StateDead:
		return control.MemberDead
	case cluster.StateLeft:
		return control.MemberLeft
	}
	return control.MemberUnverified
}

// closeCatalog stops the membership reconciler and the forwarder, then
// the store, which hands leadership over when other voters exist and
// stops raft and its streams (closing the raft layer), so the graceful
// leave does not wait for them.
func (n *Node) closeCatalog() error {
	var errs []error
	if n.membership != nil {
		errs = append(errs, n.membership.Close())
	}
	if n.forwarder != nil {
		errs = append(errs, n.forwarder.Close())
	}
	if n.catalog != nil {
		errs = append(errs, n.catalog.Close())
	}
	return errors.Join(errs...)
}

// Catalog exposes the catalog replica (tests, the API).
func (n *Node) Catalog() *control.Store { return n.catalog }

// AdminToken returns the admin token this node created at first bootstrap,
// or "" (it is never read back from the catalog, which keeps only a hash).
func (n *Node) AdminToken() string {
	if n.jobs == nil {
		return ""
	}
	return n.jobs.adminToken
}
