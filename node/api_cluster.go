package node

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/control/api"
	"github.com/classmesh/classmesh/internal/httpx"
)

// clusterAPI serves the operator endpoints of the cluster and its raft
// group: /api/v1/cluster/members, /api/v1/cluster/keys (list, rotate) and
// /api/v1/raft/status. The node builds it for operatorRoutes (admin.go)
// once the catalog is open; it needs only the cluster, the catalog store
// and a logger.
type clusterAPI struct {
	cluster *cluster.Cluster
	catalog *control.Store
	logger  *slog.Logger
}

// handleMembers lists every member the gossip layer knows.
func (n *clusterAPI) handleMembers(w http.ResponseWriter, r *http.Request) {
	members := n.cluster.AllMembers()
	out := make([]api.Member, 0, len(members))
	for _, m := range members {
		roles := make([]string, len(m.Roles))
		for i, r := range m.Roles {
			roles[i] = string(r)
		}
		out = append(out, api.Member{
			ID: m.ID, Roles: roles, Region: m.Region, HTTPAddr: m.HTTPAddr, QUICAddr: m.QUICAddr,
			GossipAddr: m.GossipAddr, State: m.State, Leaving: m.Leaving, Version: m.Version,
			EgressBPS: m.Load.EgressBPS, CapacityBPS: m.Load.CapacityBPS, CacheFullness: m.Load.CacheFullness,
			Self: m.Self,
		})
	}
	httpx.JSON(w, http.StatusOK, out)
}

// handleRaftStatus reports this node's view of the catalog's raft group.
func (n *clusterAPI) handleRaftStatus(w http.ResponseWriter, r *http.Request) {
	st, err := n.catalog.Stats()
	if err != nil {
		httpx.APIError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	httpx.JSON(w, http.StatusOK, st)
}

// handleKeys lists (GET) or rotates (POST) the gossip keys of the whole
// cluster. It is an operator endpoint (admin.go): an admin token, or the
// admin listener. Key material is never answered, only fingerprints
// (cluster.KeyFingerprint).
func (n *clusterAPI) handleKeys(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		keys := n.cluster.ListKeys()
		out := make([]api.GossipKey, len(keys))
		for i, k := range keys {
			out[i] = api.GossipKey{Fingerprint: cluster.KeyFingerprint(k), Primary: i == 0}
		}
		primary := ""
		if len(out) > 0 {
			primary = out[0].Fingerprint
		}
		httpx.JSON(w, http.StatusOK, api.GossipKeys{Keys: out, Primary: primary})
		return
	}
	// A JSON content type forces a CORS preflight, which this node does not
	// grant for POST: a web page cannot change keys through a browser.
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) != "application/json" {
		httpx.APIError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	var req api.GossipKeyChange
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil {
		httpx.APIError(w, http.StatusBadRequest, "bad JSON body: "+err.Error())
		return
	}
	key, err := n.requestedKey(req)
	if err != nil {
		httpx.APIError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	var op func() error
	switch req.Op {
	case api.GossipKeyInstall:
		op = func() error { return n.cluster.InstallKey(r.Context(), key) }
	case api.GossipKeyUse:
		op = func() error { return n.cluster.UseKey(r.Context(), key) }
	case api.GossipKeyRemove:
		op = func() error { return n.cluster.RemoveKey(r.Context(), key) }
	default:
		httpx.APIError(w, http.StatusUnprocessableEntity, `op must be "install", "use" or "remove"`)
		return
	}
	fp := cluster.KeyFingerprint(key)
	if err := op(); err != nil {
		code := http.StatusUnprocessableEntity
		if errors.Is(err, cluster.ErrKeyRollout) {
			code = http.StatusBadGateway
		}
		n.logger.Warn("node: gossip key change failed", "op", req.Op, "fingerprint", fp, "err", err)
		httpx.APIError(w, code, err.Error())
		return
	}
	n.logger.Info("node: gossip key changed across the cluster", "op", req.Op, "fingerprint", fp)
	httpx.JSON(w, http.StatusOK, api.GossipKeyResult{Result: "ok", Op: req.Op, Fingerprint: fp})
}

// requestedKey returns the key a rotation request names: the key itself,
// or (use, remove) the fingerprint of an installed key.
func (n *clusterAPI) requestedKey(req api.GossipKeyChange) ([]byte, error) {
	switch {
	case req.Key != "" && req.Fingerprint != "":
		return nil, errors.New("give key or fingerprint, not both")
	case req.Key != "":
		return decodeKey(req.Key)
	case req.Fingerprint == "":
		return nil, errors.New("key (base64) or fingerprint is required")
	case req.Op == "install":
		return nil, errors.New("install needs the key itself, not a fingerprint")
	}
	for _, k := range n.cluster.ListKeys() {
		if cluster.KeyFingerprint(k) == strings.ToLower(strings.TrimSpace(req.Fingerprint)) {
			return k, nil
		}
	}
	return nil, fmt.Errorf("no installed key has fingerprint %q", req.Fingerprint)
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != 16 && len(k) != 24 && len(k) != 32 {
				return nil, errors.New("key must be 16, 24 or 32 bytes (AES-128/192/256)")
			}
			return k, nil
		}
	}
	return nil, errors.New("key is not base64")
}
