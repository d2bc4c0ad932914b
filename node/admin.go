package node

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/classmesh/classmesh/control/api"
	"github.com/classmesh/classmesh/internal/httpx"
)

// Operator endpoints: the cluster's members and gossip keys, the raft
// group, /metrics and Go profiles. They are reachable two ways:
//
//   - on the public listener (--http) only with an admin API token
//     ("Authorization: Bearer ..."), checked by the catalog's own token
//     lookup (api.TokenAuth), never with CORS;
//   - on the admin listener (--admin-http, default 127.0.0.1:7948 when
//     free). Bound to a loopback address it trusts the machine: no token.
//     Bound to any other address it asks for the admin token too, so
//     widening the bind never opens the endpoints to the network.
//
// Invariant: every operator route is registered through operatorRoutes,
// and isOperatorPath recognises each of them (CORS never applies there).

// DefaultAdminAddr is where the admin listener binds unless --admin-http
// says otherwise; when the port is taken the node starts without it and
// logs a warning (several nodes on one machine).
const DefaultAdminAddr = "127.0.0.1:7948"

// operatorPrefixes are the path prefixes of operator endpoints.
var operatorPrefixes = []string{"/api/v1/cluster/", "/api/v1/raft/", "/metrics", "/debug/"}

// isOperatorPath reports whether path is an operator endpoint.
func isOperatorPath(path string) bool {
	for _, p := range operatorPrefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// operatorRoutes registers every operator endpoint on mux, each wrapped by
// guard. pprof is registered only when profiles is true (admin listener).
func (n *Node) operatorRoutes(mux *http.ServeMux, guard func(http.Handler) http.Handler, profiles bool) {
	h := func(pattern string, f http.HandlerFunc) { mux.Handle(pattern, guard(f)) }
	c := &clusterAPI{cluster: n.cluster, catalog: n.catalog, logger: n.logger}
	h("GET /api/v1/cluster/members", c.handleMembers)
	h("GET /api/v1/cluster/keys", c.handleKeys)
	h("POST /api/v1/cluster/keys", c.handleKeys)
	h("GET /api/v1/raft/status", c.handleRaftStatus)
	mux.Handle("GET /metrics", guard(promhttp.HandlerFor(n.scrubbedMetrics(), promhttp.HandlerOpts{Registry: n.registry})))
	if profiles {
		h("/debug/pprof/", pprof.Index)
		h("/debug/pprof/cmdline", pprof.Cmdline)
		h("/debug/pprof/profile", pprof.Profile)
		h("/debug/pprof/symbol", pprof.Symbol)
		h("/debug/pprof/trace", pprof.Trace)
	}
}

// adminGuard refuses requests without an admin API token: 401 without a
// token or with one the catalog does not know, 403 for a token that is not
// an admin's. Refusals are counted by reason and logged (rate-limited).
type adminGuard struct {
	n       *Node
	refused *prometheus.CounterVec
	mu      sync.Mutex
	logged  time.Time // last refusal logged
	quiet   int       // refusals not logged since
}

// adminLogEvery rate-limits the refusal log line.
const adminLogEvery = 10 * time.Second

func newAdminGuard(n *Node) *adminGuard {
	g := &adminGuard{n: n, refused: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "classmesh_http_operator_refused_total",
		Help: "Requests to operator endpoints refused, by reason (no_token, bad_token, not_admin).",
	}, []string{"reason"})}
	n.registry.MustRegister(g.refused)
	return g
}

// wrap returns next behind the admin token check.
func (g *adminGuard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := tokenAuth(g.n.catalog, g.n.forwarder).Authenticate(r) // a token this replica lacks is asked at the leader
		switch {
		case err != nil && !errors.Is(err, api.ErrBadToken):
			g.n.logger.Warn("node: operator endpoint: token lookup failed", "path", r.URL.Path, "err", err)
			w.Header().Set("Retry-After", api.RetryAfterSeconds)
			httpx.APIError(w, http.StatusServiceUnavailable, "cannot check the token now")
		case err != nil:
			g.refuse(w, r, "bad_token", http.StatusUnauthorized, "unknown or malformed bearer token")
		case p.Anonymous:
			g.refuse(w, r, "no_token", http.StatusUnauthorized,
				"operator endpoint: send an admin token (Authorization: Bearer ...) or use the admin listener (--admin-http)")
		case !p.Admin():
			g.refuse(w, r, "not_admin", http.StatusForbidden, "operator endpoint: the token is not an admin token")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func (g *adminGuard) refuse(w http.ResponseWriter, r *http.Request, reason string, code int, msg string) {
	g.refused.WithLabelValues(reason).Inc()
	now := time.Now()
	g.mu.Lock()
	log, quiet := now.Sub(g.logged) >= adminLogEvery, g.quiet
	if log {
		g.logged, g.quiet = now, 0
	} else {
		g.quiet++
	}
	g.mu.Unlock()
	if log {
		g.n.logger.Warn("node: operator endpoint refused", "path", r.URL.Path, "remote", r.RemoteAddr,
			"reason", reason, "not_logged_since", quiet)
	}
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	httpx.APIError(w, code, msg)
}

// adminAddr resolves --admin-http: "" = DefaultAdminAddr if free, "off" =
// none. It reports whether a failure to bind is fatal.
func (n *Node) adminAddr() (addr string, required bool) {
	switch n.cfg.AdminHTTPAddr {
	case "off":
		return "", false
	case "":
		return DefaultAdminAddr, false
	}
	return n.cfg.AdminHTTPAddr, true
}

// startAdmin binds and serves the admin listener.
func (n *Node) startAdmin() error {
	addr, required := n.adminAddr()
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if required {
			return fmt.Errorf("node: --admin-http: %w", err)
		}
		n.logger.Warn("node: admin listener disabled: default address unavailable (set --admin-http)", "addr", addr, "err", err)
		return nil
	}
	guard := func(h http.Handler) http.Handler { return h }
	open := true
	if ta, ok := ln.Addr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		guard, open = n.admin.wrap, false
	}
	mux := http.NewServeMux()
	n.operatorRoutes(mux, guard, true)
	mux.HandleFunc("GET /healthz", handleHealthz)
	mux.HandleFunc("GET /readyz", n.readiness.handleReadyz)
	n.adminLn = ln
	// The public listener's rate rules for bodies and responses
	// (limits.go), so a stalled client cannot hold the operator port; its
	// connections do not count against the learners' connection caps.
	n.adminSrv = &http.Server{Handler: n.limits.limitRequests(mux), ReadHeaderTimeout: n.cfg.HTTPReadHeaderTimeout,
		IdleTimeout: n.cfg.HTTPIdleTimeout, MaxHeaderBytes: DefaultHTTPMaxHeaderBytes}
	n.logger.Info("node: admin listener", "url", n.AdminURL(), "token_required", !open)
	n.goServe(func() error { return n.adminSrv.Serve(ln) })
	return nil
}

// AdminURL is the admin listener's base URL, or "" without one.
func (n *Node) AdminURL() string {
	if n.adminLn == nil {
		return ""
	}
	addr := n.adminLn.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}
