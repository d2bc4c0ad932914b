package p2p

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/classmesh/classmesh/internal/httpx"
	"github.com/classmesh/classmesh/p2p/wire"
)

// maxAcceptEncoding bounds the Accept-Encoding header parsed.
const maxAcceptEncoding = 1024

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
	coding := chooseEncoding(r.Header.Values("Accept-Encoding"))
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
	if inm == "" || len(inm) > maxAcceptEncoding {
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

// chooseEncoding picks "zstd", "gzip" or "" (identity) from
// Accept-Encoding values: zstd preferred over gzip at equal or higher q.
func chooseEncoding(values []string) string {
	qz, qg := -1.0, -1.0
	total := 0
	for _, v := range values {
		if total += len(v); total > maxAcceptEncoding {
			break
		}
		for _, part := range strings.Split(v, ",") {
			name, q := parseCoding(part)
			switch name {
			case "zstd":
				qz = q
			case "gzip", "x-gzip":
				qg = q
			case "*":
				if qz < 0 {
					qz = q
				}
				if qg < 0 {
					qg = q
				}
			}
		}
	}
	switch {
	case qz > 0 && qz >= qg:
		return "zstd"
	case qg > 0:
		return "gzip"
	}
	return ""
}

// parseCoding parses "name;q=0.5" → (name, 0.5); q defaults to 1 and an
// invalid q counts as 0.
func parseCoding(s string) (string, float64) {
	name, params, _ := strings.Cut(s, ";")
	name = strings.ToLower(strings.TrimSpace(name))
	q := 1.0
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || strings.ToLower(strings.TrimSpace(k)) != "q" {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || f > 1 {
			f = 0
		}
		q = f
	}
	return name, q
}
