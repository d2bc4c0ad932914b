package p2p

import (
	"net/http"
	"strings"

	"github.com/classmesh/classmesh/internal/httpx"
	"github.com/classmesh/classmesh/p2p/wire"
)

// maxIfNoneMatch bounds the If-None-Match header parsed.
const maxIfNoneMatch = 1024

// ServeHashList writes hashes.json for swarm (PROTOCOL.md, "Hash list"):
// compressed with zstd or gzip per Accept-Encoding (identity otherwise),
// with an ETag per representation and If-None-Match support. An invalid
// swarm id is 404; a swarm with no known hashes gets an empty list.
func (t *Tracker) ServeHashList(w http.ResponseWriter, r *http.Request, swarm string) {
	if !wire.ValidSwarm(swarm) {
		httpx.Error(w, http.StatusNotFound, "p2p: unknown swarm")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpx.Error(w, http.StatusMethodNotAllowed, "p2p: method not allowed")
		return
	}
	rep := t.hashes.rep(swarm)
	coding := httpx.Encoding(r.Header.Values("Accept-Encoding"), "zstd", "gzip")
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Add("Vary", "Accept-Encoding")
	if strings.HasPrefix(swarm, wire.KindLive+"/") {
		h.Set("Cache-Control", "no-cache")
	} else {
		h.Set("Cache-Control", "max-age=5")
	}
	etag := `"` + rep.tag + `"`
	if coding != "" {
		etag = `"` + rep.tag + "-" + coding + `"`
	}
	h.Set("ETag", etag)
	if etagMatch(r.Header.Get("If-None-Match"), rep.tag) {
		// Any representation's tag: the list is the same in every
		// encoding, so a client need not refetch it to switch.
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := rep.body
	if coding != "" {
		body = rep.encoded(coding, t.hashes.zenc)
		h.Set("Content-Encoding", coding)
	}
	httpx.ServeBody(w, r, httpx.Body{Tag: etag, Bytes: body})
}

// etagMatch reports whether an If-None-Match value names any
// representation of tag (weak or strong, any encoding suffix) or is "*".
func etagMatch(inm, tag string) bool {
	if inm == "" || len(inm) > maxIfNoneMatch {
		return false
	}
	for _, v := range strings.Split(inm, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == "*" {
			return true
		}
		v = strings.Trim(v, `"`)
		if v == tag || v == tag+"-gzip" || v == tag+"-zstd" {
			return true
		}
	}
	return false
}
