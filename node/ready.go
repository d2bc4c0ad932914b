package node

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/internal/httpx"
	"github.com/classmesh/classmesh/node/vod"
)

// Readiness: /readyz answers 200 only when this node can serve what the
// cluster serves (issue 11, finding 8). Three conditions, each written once
// and never cleared while the node runs (readiness is about a starting
// node; a running node that loses its origin or its leader keeps serving
// what it has, and /healthz and the metrics say the rest):
//
//   - started: Start has returned and Close has not begun;
//   - listed: the first asset listing is done. A node with media of its own
//     lists it inside Start. An edge that reads the cluster's media has
//     listed once a listing of the origin-role members succeeded, or, when
//     the cluster it has joined has no origin-role member, once a listing
//     has run (there is nothing to serve yet);
//   - caughtUp: the catalog replica has applied everything the leader had
//     committed when this node asked (control.Forwarder.Linearize: a read
//     index from the leader, then a wait for the local FSM). Until then the
//     replica may not know the admin token, the assets or the courses.
//
// The 503 body names the missing conditions but no error text (it is
// public, and errors carry internal addresses); the errors are logged.
//
// readiness owns these conditions and /readyz. The node builds one in
// build (newReadiness), once the cluster, the origin and the library
// exist, and hands it the catalog store when Start has opened it.
type readiness struct {
	started  atomic.Bool
	listed   atomic.Bool
	caughtUp atomic.Bool

	remote  bool // the origin is the cluster's origin-role members
	joining bool // --join names peers
	cluster *cluster.Cluster
	origin  fmt.Stringer
	library *vod.Library
	catalog *control.Store // set by Start once the catalog is open
	logger  *slog.Logger
}

func newReadiness(n *Node) *readiness {
	return &readiness{remote: n.remote, joining: len(n.cfg.Join) > 0, cluster: n.cluster,
		origin: n.origin, library: n.library, logger: n.logger}
}

// Catch-up retry timing: one attempt waits at most catchUpAttempt for a
// leader and its read index; failed attempts back off up to catchUpMaxWait;
// after catchUpWarnAfter without success a WARN line says why.
const (
	catchUpAttempt   = 10 * time.Second
	catchUpFirst     = 100 * time.Millisecond
	catchUpMaxWait   = 5 * time.Second
	catchUpWarnAfter = time.Minute
)

// noteListing records the outcome of a listing of the node's origin.
func (r *readiness) noteListing(err error) {
	if r.listed.Load() {
		return
	}
	if err == nil || (r.remote && r.clusterHasNoOrigin()) {
		r.listed.Store(true)
		r.logger.Info("node: first asset listing done", "origin", r.origin.String(), "assets", len(r.library.Assets()))
	}
	// A failed listing is logged by rescanLoop.
}

// clusterHasNoOrigin reports whether this node is in a cluster (it has
// joined one, or was told to join none) and no other member advertises the
// origin role.
func (r *readiness) clusterHasNoOrigin() bool {
	members := r.cluster.Members()
	if r.joining && len(members) < 2 {
		return false // not joined yet: the origins may be out there
	}
	for _, m := range members {
		if !m.Self && m.Has(cluster.RoleOrigin) {
			return false
		}
	}
	return true
}

// catchUpCatalog waits until the catalog replica has caught up with the
// leader's commit index (fw.Linearize), retrying with back-off until ctx
// ends.
func (r *readiness) catchUpCatalog(ctx context.Context, fw *control.Forwarder) {
	wait, start, warned := catchUpFirst, time.Now(), false
	for {
		actx, cancel := context.WithTimeout(ctx, catchUpAttempt)
		err := fw.Linearize(actx)
		cancel()
		if err == nil {
			r.caughtUp.Store(true)
			r.logger.Info("node: catalog replica caught up with the leader", "applied_index", r.catalog.AppliedIndex())
			return
		}
		if ctx.Err() != nil {
			return
		}
		if !warned && time.Since(start) > catchUpWarnAfter {
			warned = true
			r.logger.Warn("node: catalog replica still not caught up with the leader; /readyz answers 503",
				"applied_index", r.catalog.AppliedIndex(), "err", err)
		} else {
			r.logger.Debug("node: catalog replica not caught up yet", "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, catchUpMaxWait)
	}
}

// notReady returns what keeps the node from being ready, one line each;
// none means ready.
func (r *readiness) notReady() []string {
	if !r.started.Load() {
		return []string{"node: starting or stopping"}
	}
	var out []string
	if !r.listed.Load() {
		msg := "assets: the first listing of the cluster's origin-role members has not succeeded yet"
		if !r.remote {
			msg = "assets: the first listing of the media library has not run yet"
		}
		out = append(out, msg)
	}
	if !r.caughtUp.Load() {
		out = append(out, fmt.Sprintf("catalog: the replica (applied index %d) has not caught up with the leader's commit index yet",
			r.catalog.AppliedIndex()))
	}
	return out
}

// handleReadyz answers 200 "ready" when the node can serve what the cluster
// serves, else 503 with one line per missing condition.
func (rd *readiness) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if missing := rd.notReady(); len(missing) > 0 {
		w.Header().Set("Retry-After", "1")
		httpx.Error(w, http.StatusServiceUnavailable, "not ready\n"+strings.Join(missing, "\n"))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ready\n"))
}
