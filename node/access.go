package node

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/classmesh/classmesh/control/access"
	"github.com/classmesh/classmesh/internal/httpx"
	"github.com/classmesh/classmesh/p2p/wire"
)

// Every read of media asks control/access through authorize (HTTP) or
// admitSwarm (the tracker's join): VOD playlists, init and media
// segments and hash lists (media.go), live LL-HLS (live.go), recordings
// (which are VOD assets) and the swarm join on /p2p/ws (p2p.go). The token
// travels in the path: /t/{token}/v/..., /t/{token}/live/...,
// /t/{token}/p2p/ws.

// Media paths, the path label of classmesh_access_refusals_total.
const (
	pathVOD  = "vod"
	pathLive = "live"
	pathP2P  = "p2p"
)

// mediaAccess is the media access gate: it owns the check of every read
// of media (authorize for HTTP, admitSwarm for the tracker's join) against
// the access policy of the local replica, kept current by
// control/access.View (set when the catalog opens), and the log line and
// counter of every refusal. The node builds one; the VOD, live and P2P
// handlers hold a pointer to it.
type mediaAccess struct {
	view     *access.View
	refusals *prometheus.CounterVec
	logger   *slog.Logger
}

func newAccessRefusals(reg prometheus.Registerer) *prometheus.CounterVec {
	if reg == nil {
		reg = prometheus.NewRegistry() // nil means a private registry
	}
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "classmesh_access_refusals_total",
		Help: "Reads of media refused by the access policy, by path (vod, live, p2p) and reason.",
	}, []string{"path", "reason"})
	reg.MustRegister(c)
	return c
}

// policy returns the current policy (control/access.View: rebuilt when
// the replica's applied index moves; if the catalog cannot be read the
// last policy stays in force, and before any a closed one refuses every
// read, 503, rather than serve private media).
func (m *mediaAccess) policy() *access.Policy { return m.view.Policy() }

// authorize is the check of every media handler: it asks the policy
// whether the request (its /t/{token}/ path value and client address) may
// read req's asset or session. On refusal it writes 403 with a reason code
// (404 for an unknown live session, 503 before the catalog could be read),
// logs and counts it, and returns false.
func (m *mediaAccess) authorize(w http.ResponseWriter, r *http.Request, path string, req access.Request) bool {
	req.Token = r.PathValue("token")
	req.Client = clientAddr(r)
	d := m.policy().Check(req)
	if d.Allow {
		return true
	}
	m.refused(path, d, req, r.RemoteAddr)
	switch d.Reason {
	case access.ReasonUnknownSession:
		httpx.Error(w, http.StatusNotFound, d.Detail)
		return false
	case access.ReasonUnavailable:
		w.Header().Set("Retry-After", "1")
		httpx.Error(w, http.StatusServiceUnavailable, d.Detail)
		return false
	}
	httpx.WriteError(w, http.StatusForbidden, httpx.ErrorBody{Error: d.Detail, Reason: d.Reason})
	return false
}

// refused logs and counts a refusal. Private ids are logged (the log is
// the operator's), never put in metric labels.
func (m *mediaAccess) refused(path string, d access.Decision, req access.Request, client string) {
	if m.refusals != nil {
		m.refusals.WithLabelValues(path, d.Reason).Inc()
	}
	m.logger.Info("node: media access refused", "path", path, "asset", req.Asset, "session", req.Session,
		"reason", d.Reason, "client", client)
}

// admitSwarm is the tracker's admission check (p2p.Config.Admit): a socket
// joins the swarm of an asset or live session only with the playback
// authorisation its HTTP requests for that media need. The token comes
// from the upgrade request's path, /t/{token}/p2p/ws.
func (m *mediaAccess) admitSwarm(r *http.Request, swarm string) error {
	kind, name, _, ok := wire.SplitSwarm(swarm)
	if !ok {
		return access.ErrForbidden
	}
	req := access.Request{Token: r.PathValue("token"), Client: clientAddr(r)}
	if kind == wire.KindLive {
		req.Session = name
	} else {
		req.Asset = name
	}
	d := m.policy().Check(req)
	if d.Allow {
		return nil
	}
	m.refused(pathP2P, d, req, r.RemoteAddr)
	return d.Err()
}

func clientAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}
