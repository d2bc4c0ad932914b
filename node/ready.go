package node

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/internal/httpx"
)

// Readiness: /readyz answers 200 only when this node can serve what the
// cluster serves (issue 11, finding 8). Three conditions, each written once
// and never cleared while the node runs (readiness is about a starting
// node; a running node that loses its origin or its leader keeps serving
// what it has, and /healthz and the metrics say the rest):
//
//   - started: Start has returned and Close has not begun (Node.ready);
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
type readiness struct {
	listed   atomic.Bool
	caughtUp atomic.Bool
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
func (n *Node) noteListing(err error) {
	r := &n.readiness
	if r.listed.Load() {
		return
	}
	if err == nil || (n.remote && n.clusterHasNoOrigin()) {
		r.listed.Store(true)
		n.logger.Info("node: first asset listing done", "origin", n.origin.String(), "assets", len(n.library.Assets()))
	}
	// A failed listing is logged by rescanLoop.
}

// clusterHasNoOrigin reports whether this node is in a cluster (it has
// joined one, or was told to join none) and no other member advertises the
// origin role.
func (n *Node) clusterHasNoOrigin() bool {
	members := n.cluster.Members()
	if len(n.cfg.Join) > 0 && len(members) < 2 {
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
// leader's commit index, retrying with back-off until ctx ends.
func (n *Node) catchUpCatalog(ctx context.Context) {
	defer n.wg.Done()
	wait, start, warned := catchUpFirst, time.Now(), false
	for {
		actx, cancel := context.WithTimeout(ctx, catchUpAttempt)
		err := n.forwarder.Linearize(actx)
		cancel()
		if err == nil {
			n.readiness.caughtUp.Store(true)
			n.logger.Info("node: catalog replica caught up with the leader", "applied_index", n.catalog.AppliedIndex())
			return
		}
		if ctx.Err() != nil {
			return
		}
		if !warned && time.Since(start) > catchUpWarnAfter {
			warned = true
			n.logger.Warn("node: catalog replica still not caught up with the leader; /readyz answers 503",
				"applied_index", n.catalog.AppliedIndex(), "err", err)
		} else {
			n.logger.Debug("node: catalog replica not caught up yet", "err", err)
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
func (n *Node) notReady() []string {
	if !n.ready.Load() {
		return []string{"node: starting or stopping"}
	}
	r := &n.readiness
	var out []string
	if !r.listed.Load() {
		msg := "assets: the first listing of the cluster's origin-role members has not succeeded yet"
		if !n.remote {
			msg = "assets: the first listing of the media library has not run yet"
		}
		out = append(out, msg)
	}
	if !r.caughtUp.Load() {
		out = append(out, fmt.Sprintf("catalog: the replica (applied index %d) has not caught up with the leader's commit index yet",
			n.catalog.AppliedIndex()))
	}
	return out
}

// handleReadyz answers 200 "ready" when the node can serve what the cluster
// serves, else 503 with one line per missing condition.
func (n *Node) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if missing := n.notReady(); len(missing) > 0 {
		w.Header().Set("Retry-After", "1")
		httpx.Error(w, http.StatusServiceUnavailable, "not ready\n"+strings.Join(missing, "\n"))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ready\n"))
}
