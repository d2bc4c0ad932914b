package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
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

// catalogLoop does the node's own catalog chores once a second: it
// records the origin's assets in the catalog when the library changed
// and a leader is known, and on the leader creates the first admin token.
func (n *Node) catalogLoop(ctx context.Context) {
	defer n.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if leader, _ := n.catalog.Leader(); leader != "" && n.assetsDirty.Swap(false) {
			if !n.registerAssets(ctx) {
				n.assetsDirty.Store(true) // try again on the next tick
			}
		}
		n.ensureAdminToken(ctx)
	}
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

// adminTokenFile is where the first admin token is kept (mode 0600).
const adminTokenFile = "admin-token"

// ensureAdminToken creates the first admin API token when this node leads
// a catalog that has none: the token is shown once in the log and on
// stdout (runNode) and written to DATA/admin-token with mode 0600, the
// only copies; the catalog keeps its hash.
func (n *Node) ensureAdminToken(ctx context.Context) {
	if !n.catalog.IsLeader() {
		return
	}
	tokens, err := n.catalog.List(control.KindToken, nil)
	if err != nil || len(tokens) > 0 {
		return
	}
	res, err := n.catalog.Create(ctx, control.KindToken, "admin", control.APIToken{ID: "admin", Role: "admin"})
	if err != nil {
		n.logger.Warn("node: cannot create the first admin token", "err", err)
		return
	}
	path := filepath.Join(n.cfg.DataDir, adminTokenFile)
	if err := os.WriteFile(path, []byte(res.Secret+"\n"), 0o600); err != nil {
		n.logger.Warn("node: cannot store the first admin token", "path", path, "err", err)
	}
	n.adminToken = res.Secret
	n.logger.Info("node: first admin API token created (shown once; also in the file)", "file", path)
}

// AdminToken returns the admin token this node created at first bootstrap,
// or "" (it is never read back from the catalog, which keeps only a hash).
func (n *Node) AdminToken() string { return n.adminToken }

// registerAssets records the assets this origin packages in the catalog,
// through the leader, writing only what changed since the catalog's copy.
// Edges then resolve assets from their local replica.
// It reports whether every asset was recorded.
func (n *Node) registerAssets(ctx context.Context) bool {
	if n.remote || !n.cluster.Self().Has(cluster.RoleOrigin) || n.forwarder == nil {
		return true
	}
	ok := true
	for _, a := range n.library.Assets() {
		rec := control.Asset{ID: a.ID, Title: a.Title, Source: a.ID, Status: a.Status, Reason: a.Reason,
			Duration: a.Duration.Seconds()}
		for _, r := range a.Renditions {
			rec.Renditions = append(rec.Renditions, control.Rendition{Name: r.ID, Width: r.Width, Height: r.Height,
				Bitrate: int(r.Bandwidth), Codecs: r.Codec, Path: r.Path})
		}
		if r := []rune(rec.Title); len(r) > 200 {
			rec.Title = string(r[:200]) // whole runes: a cut rune is invalid UTF-8, refused for good
		}
		op, ifMatch := control.OpCreate, uint64(0)
		if cur, err := n.catalog.Asset(a.ID); err == nil {
			rec.CourseID = cur.CourseID // the owner is the admin's, not the origin's
			if sameAsset(cur, &rec) {
				continue
			}
			op, ifMatch = control.OpUpdate, cur.Revision
		}
		payload, _ := json.Marshal(rec)
		_, err := n.forwarder.Apply(ctx, control.Command{Op: op, Kind: control.KindAsset, ID: a.ID, IfMatch: ifMatch, Payload: payload})
		if err != nil && ctx.Err() == nil {
			if ce := (*control.Error)(nil); errors.As(err, &ce) && ce.Code == control.CodeInvalid {
				// Retrying every second cannot help; the next rescan tries again.
				n.logger.Warn("node: asset refused by the catalog, not retried before the next rescan", "asset", a.ID, "err", err)
				continue
			}
			n.logger.Warn("node: cannot register asset in the catalog", "asset", a.ID, "err", err)
			ok = false
		}
	}
	return ok
}

func sameAsset(a *control.Asset, b *control.Asset) bool {
	x, y := *a, *b
	x.Meta, y.Meta = control.Meta{}, control.Meta{}
	bx, _ := json.Marshal(x)
	by, _ := json.Marshal(y)
	return string(bx) == string(by)
}
