package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/hashicorp/raft"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/control"
)

// openCatalog starts this node's raft replica of the catalog. Raft runs
// over the cluster's QUIC transport (its own ALPN), so it is opened after
// the cluster has bound its port: the raft address is the QUIC address.
func (n *Node) openCatalog() error {
	self := n.cluster.Self()
	n.raftLayer = cluster.NewRaftLayer(n.cluster.Transport(), self.QUICAddr)
	n.raftTransport = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  n.raftLayer,
		MaxPool: 3,
		Timeout: 10 * time.Second,
		Logger:  control.NewHCLogger(n.logger.With("part", "raft-net"), slog.LevelWarn),
	})
	cfg := control.DefaultConfig()
	cfg.NodeID = self.ID
	cfg.DataDir = filepath.Join(n.cfg.DataDir, "control")
	cfg.Transport = n.raftTransport
	cfg.Voter = self.Has(cluster.RoleControl)
	// A node that joins nobody starts the catalog itself; joiners are
	// added by the leader (reconcileRaft).
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
	n.forwarder.Register(n.cluster.Transport())
	return nil
}

// reconcileRaftLoop makes raft membership follow gossip. Only the leader
// acts: members alive for raftJoinDelay are added (voters for the control
// role, non-voters otherwise); members dead for RaftReapTimeout, or gone
// with a graceful leave, are removed. "Alive" means verified: a member
// that has not proved a cluster certificate for its name is
// cluster.StateUnverified and is never added (issue 11, finding 1).
func (n *Node) reconcileRaftLoop(ctx context.Context) {
	defer n.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	firstSeen := map[string]time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n.cfg.BootstrapExpect > 1 {
			n.bootstrapExpected()
		}
		if leader, _ := n.catalog.Leader(); leader != "" && n.assetsDirty.Swap(false) {
			if !n.registerAssets(ctx) {
				n.assetsDirty.Store(true) // try again on the next tick
			}
		}
		if !n.catalog.IsLeader() {
			continue
		}
		n.ensureAdminToken(ctx)
		if err := n.reconcileRaft(firstSeen); err != nil && ctx.Err() == nil {
			n.logger.Warn("node: raft membership", "err", err)
		}
	}
}

const raftJoinDelay = 3 * time.Second

func (n *Node) reconcileRaft(firstSeen map[string]time.Time) error {
	st, err := n.catalog.Stats()
	if err != nil {
		return err
	}
	now := time.Now()
	var errs []error
	for _, m := range n.cluster.AllMembers() {
		inRaft := slices.Contains(st.Voters, m.ID) || slices.Contains(st.Nonvoters, m.ID)
		switch {
		case m.Self:
		case m.State == cluster.StateAlive && !m.Leaving: // verified (not StateUnverified)
			if inRaft || m.QUICAddr == "" {
				continue
			}
			if _, ok := firstSeen[m.ID]; !ok {
				firstSeen[m.ID] = now
			}
			if now.Sub(firstSeen[m.ID]) < raftJoinDelay {
				continue
			}
			add, kind := n.catalog.AddNonvoter, "non-voter"
			if m.Has(cluster.RoleControl) {
				add, kind = n.catalog.AddVoter, "voter"
			}
			if err := add(m.ID, m.QUICAddr); err != nil {
				errs = append(errs, fmt.Errorf("add %s %s: %w", kind, m.ID, err))
				continue
			}
			n.logger.Info("node: raft member added", "id", m.ID, "as", kind)
		case inRaft && (m.State == cluster.StateLeft || m.Leaving ||
			(m.State == cluster.StateDead && now.Sub(m.Since) > n.cfg.RaftReapTimeout)):
			delete(firstSeen, m.ID)
			if err := n.catalog.RemoveServer(m.ID); err != nil {
				errs = append(errs, fmt.Errorf("remove %s: %w", m.ID, err))
				continue
			}
			n.logger.Info("node: raft member removed", "id", m.ID, "state", m.State)
		}
	}
	return errors.Join(errs...)
}

// bootstrapExpected starts a fresh catalog with --bootstrap-expect voters
// once that many control members are alive: the member with the lowest id
// bootstraps all of them, the others wait to be contacted.
func (n *Node) bootstrapExpected() {
	if st, err := n.catalog.Stats(); err != nil || st.LastIndex > 0 || len(st.Voters) > 0 && st.LeaderID != "" {
		return
	}
	var servers []control.Server
	for _, m := range n.cluster.Members() {
		if m.Has(cluster.RoleControl) && m.QUICAddr != "" {
			servers = append(servers, control.Server{ID: m.ID, Address: m.QUICAddr, Voter: true})
		}
	}
	if len(servers) < n.cfg.BootstrapExpect {
		return
	}
	slices.SortFunc(servers, func(a, b control.Server) int { return cmpString(a.ID, b.ID) })
	if servers[0].ID != n.cluster.ID() {
		return
	}
	if err := n.catalog.BootstrapCluster(servers[:n.cfg.BootstrapExpect]); err != nil {
		n.logger.Warn("node: bootstrap", "err", err)
		return
	}
	n.logger.Info("node: catalog bootstrapped", "voters", n.cfg.BootstrapExpect)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// closeCatalog hands leadership over when other voters exist, then stops
// raft and its streams so the graceful leave does not wait for them.
func (n *Node) closeCatalog() error {
	var errs []error
	if n.forwarder != nil {
		errs = append(errs, n.forwarder.Close())
	}
	if n.catalog != nil {
		errs = append(errs, n.catalog.Close())
	}
	if n.raftTransport != nil {
		errs = append(errs, n.raftTransport.Close())
	}
	if n.raftLayer != nil {
		if err := n.raftLayer.Close(); err != nil && !errors.Is(err, cluster.ErrClosed) {
			errs = append(errs, err)
		}
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
