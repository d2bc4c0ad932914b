package node

import (
	"net/http"
	"strings"

	"github.com/classmesh/classmesh/internal/httpx"
	"github.com/classmesh/classmesh/player"
)

// routes is the node's URL map. Every public URL is listed here.
func (n *Node) routes() http.Handler {
	mux := http.NewServeMux()
	// VOD, packaged just in time (media.go).
	vm := &vodMedia{library: n.library, segments: n.segments, catalog: n.catalog,
		access: &n.mediaAccess, peers: n.peers, logger: n.logger}
	mux.HandleFunc("GET /v/{asset}/master.m3u8", vm.handleMaster)
	mux.HandleFunc("GET /v/{asset}/{rendition}/{file}", vm.handleRenditionFile)
	// The same, with a signed playback token in the path so that relative
	// playlist URLs carry it (courses that are not public).
	mux.HandleFunc("GET /t/{token}/v/{asset}/master.m3u8", vm.handleMaster)
	mux.HandleFunc("GET /t/{token}/v/{asset}/{rendition}/{file}", vm.handleRenditionFile)
	// Live classes, LL-HLS (live.go).
	mux.HandleFunc("/live/", n.live.handleLive)
	mux.HandleFunc("/t/{token}/live/", n.live.handleLive)
	// Peer assistance: the tracker (p2p/PROTOCOL.md); the token form
	// admits the socket to swarms of private media (access.go).
	mux.HandleFunc("/p2p/ws", n.peers.handleP2P)
	mux.HandleFunc("/t/{token}/p2p/ws", n.peers.handleP2P)
	// Catalog API (api.go).
	aa := &assetAPI{library: n.library, catalog: n.catalog, forwarder: n.forwarder,
		access: &n.mediaAccess, logger: n.logger}
	mux.HandleFunc("GET /api/v1/assets", aa.handleAssets)
	mux.HandleFunc("GET /api/v1/assets/{id}", aa.handleAsset)
	mux.HandleFunc("GET /t/{token}/api/v1/assets/{id}", aa.handleAsset) // the signed player page
	// Operator endpoints (/api/v1/cluster/*, /api/v1/raft/*, /metrics):
	// here only with an admin token; also on the admin listener (admin.go).
	n.operatorRoutes(mux, n.admin.wrap, false)
	mux.HandleFunc("POST /api/v1/playback-tokens", aa.handlePlaybackToken)
	// The catalog (control/api): courses, modules, lessons, assets (writes,
	// history), sessions, sites, keys, tokens and /api/v1/openapi.json.
	// The GET /api/v1/assets routes above, more specific, show what this
	// node packages.
	mux.Handle("/api/v1/", aa.catalogAPI())
	mux.HandleFunc("/api/", handleAPINotFound)
	// Operations.
	mux.HandleFunc("GET /healthz", handleHealthz)
	mux.HandleFunc("GET /readyz", n.readiness.handleReadyz)
	// Course pages and the player.
	mux.Handle("/", player.Handler())
	mux.Handle("GET /t/{token}/watch/", player.Handler())
	return n.metrics.instrument(cors(rejectBadPaths(mux)))
}

// rejectBadPaths answers 400 for request paths that try to leave the URL
// space: dot segments (also percent-encoded), NUL, backslashes, encoded
// slashes and empty segments. Nothing in the node maps URL segments to files,
// so this is defence in depth and a clear answer instead of a redirect.
func rejectBadPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reason := badPath(r.URL.Path, r.URL.EscapedPath()); reason != "" {
			httpx.Error(w, http.StatusBadRequest, "bad path: "+reason)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func badPath(path, escaped string) string {
	if !strings.HasPrefix(path, "/") {
		return "not absolute"
	}
	if strings.ContainsAny(path, "\x00\\") {
		return "NUL or backslash"
	}
	lower := strings.ToLower(escaped)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") || strings.Contains(lower, "%00") {
		return "encoded separator"
	}
	segs := strings.Split(path[1:], "/")
	for i, s := range segs {
		switch {
		case s == "." || s == "..":
			return "dot segment"
		case s == "" && i != len(segs)-1:
			return "empty segment"
		}
	}
	return ""
}

var (
	corsAllowOrigin = []string{"*"}
	corsExpose      = []string{"Content-Length, Content-Range, ETag, Age"}
)

// cors lets players embedded in an LMS on another origin fetch playlists,
// segments and public API reads. It answers only reads: GET and HEAD (and
// their preflights) of paths that are not operator endpoints. Writes and
// operator endpoints never get Access-Control-Allow-Origin, so a web page
// on another origin can neither read their answers nor pass a preflight
// for them.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isOperatorPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			switch r.Header.Get("Access-Control-Request-Method") {
			case http.MethodGet, http.MethodHead:
				h["Access-Control-Allow-Origin"] = corsAllowOrigin
				h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Range, If-None-Match, Authorization, Content-Type")
				h.Set("Access-Control-Max-Age", "86400")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			// Pre-canonicalised keys and shared, never-mutated values:
			// this runs on every request.
			h["Access-Control-Allow-Origin"] = corsAllowOrigin
			h["Access-Control-Expose-Headers"] = corsExpose
		}
		next.ServeHTTP(w, r)
	})
}

func handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func handleAPINotFound(w http.ResponseWriter, r *http.Request) {
	httpx.APIError(w, http.StatusNotFound, "no such API endpoint: "+r.URL.Path)
}
