package node

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/node/vod"
)

// catalogJobs does the node's own chores in the catalog: it records the
// assets an origin-role node packages (registerAssets, when the library
// changed) and, on the leader of a catalog without tokens, creates the
// first admin token (ensureAdminToken). Start builds it once the catalog
// is open and runs loop until the node closes.
//
// Invariant: dirty is the node's assetsDirty flag (set by rescans and
// adopted recordings, cleared here when every asset was recorded).
type catalogJobs struct {
	catalog   *control.Store
	forwarder *control.Forwarder
	library   *vod.Library
	registers bool // this node packages its own media and has the origin role
	dataDir   string
	dirty     *atomic.Bool
	logger    *slog.Logger

	adminToken string // created here at first bootstrap, or ""
}

// loop does the node's own catalog chores once a second: it
// records the origin's assets in the catalog when the library changed
// and a leader is known, and on the leader creates the first admin token.
func (n *catalogJobs) loop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if leader, _ := n.catalog.Leader(); leader != "" && n.dirty.Swap(false) {
			if !n.registerAssets(ctx) {
				n.dirty.Store(true) // try again on the next tick
			}
		}
		n.ensureAdminToken(ctx)
	}
}

// adminTokenFile is where the first admin token is kept (mode 0600).
const adminTokenFile = "admin-token"

// ensureAdminToken creates the first admin API token when this node leads
// a catalog that has none: the token is shown once in the log and on
// stdout (runNode) and written to DATA/admin-token with mode 0600, the
// only copies; the catalog keeps its hash.
func (n *catalogJobs) ensureAdminToken(ctx context.Context) {
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
	path := filepath.Join(n.dataDir, adminTokenFile)
	if err := os.WriteFile(path, []byte(res.Secret+"\n"), 0o600); err != nil {
		n.logger.Warn("node: cannot store the first admin token", "path", path, "err", err)
	}
	n.adminToken = res.Secret
	n.logger.Info("node: first admin API token created (shown once; also in the file)", "file", path)
}

// registerAssets records the assets this origin packages in the catalog,
// through the leader, writing only what changed since the catalog's copy.
// Edges then resolve assets from their local replica.
// It reports whether every asset was recorded.
func (n *catalogJobs) registerAssets(ctx context.Context) bool {
	if !n.registers || n.forwarder == nil {
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
