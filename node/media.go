package node

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/classmesh/classmesh/cache"
	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/control/access"
	"github.com/classmesh/classmesh/internal/httpx"
	"github.com/classmesh/classmesh/internal/ident"
	"github.com/classmesh/classmesh/node/internal/segsource"
	"github.com/classmesh/classmesh/node/mp4"
	"github.com/classmesh/classmesh/node/origin"
	"github.com/classmesh/classmesh/node/vod"
	"github.com/classmesh/classmesh/p2p/wire"
)

const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cachePlaylist  = "public, max-age=10"
)

// validID reports whether s is an asset or rendition id under the one
// identifier rule (internal/ident), the rule the indexer and the catalog
// use. Ids are only ever used as map keys, never as file names, but a clear
// 400 beats a lookup.
func validID(s string) bool { return ident.Valid(s) }

// vodMedia serves VOD media, packaged just in time: master and media
// playlists, init segments, media segments (from the segment source:
// cache, ring owner, origin) and hash lists. It asks the access gate
// before anything, rescans the library when the catalog knows an asset the
// library does not yet, and reports segment hashes and served bytes to the
// peer-assistance glue. The node builds one in routes, once the catalog is
// open.
type vodMedia struct {
	library  *vod.Library
	segments *segsource.Source
	catalog  *control.Store // nil: no rescan for catalog assets
	access   *mediaAccess
	peers    *peerAssist
	logger   *slog.Logger

	lastMissRefresh atomic.Int64 // unix ns of the last rescan for a catalog asset
}

// lookup resolves the {asset} path value; it writes the error response and
// returns nil when the asset cannot be served.
func (n *vodMedia) lookup(w http.ResponseWriter, r *http.Request) *vod.Asset {
	id := r.PathValue("asset")
	if !validID(id) {
		httpx.Error(w, http.StatusBadRequest, "bad asset id")
		return nil
	}
	if !n.access.authorize(w, r, pathVOD, access.Request{Asset: id}) {
		return nil
	}
	a, ok := n.library.Asset(id)
	if !ok && n.refreshForCatalogAsset(r.Context(), id) {
		a, ok = n.library.Asset(id)
	}
	if !ok {
		httpx.Error(w, http.StatusNotFound, fmt.Sprintf("no asset %q", id))
		return nil
	}
	if a.Status != vod.StatusReady {
		httpx.Error(w, http.StatusUnprocessableEntity, fmt.Sprintf("asset %q failed: %s", id, a.Reason))
		return nil
	}
	return a
}

func (n *vodMedia) handleMaster(w http.ResponseWriter, r *http.Request) {
	a := n.lookup(w, r)
	if a == nil {
		return
	}
	servePlaylist(w, r, a.MasterPlaylist())
}

// handleRenditionFile serves media.m3u8, hashes.json, init.mp4 and
// seg-N.m4s.
func (n *vodMedia) handleRenditionFile(w http.ResponseWriter, r *http.Request) {
	a := n.lookup(w, r)
	if a == nil {
		return
	}
	rid := r.PathValue("rendition")
	if !validID(rid) {
		httpx.Error(w, http.StatusBadRequest, "bad rendition id")
		return
	}
	rend, ok := a.Rendition(rid)
	if !ok {
		httpx.Error(w, http.StatusNotFound, fmt.Sprintf("asset %q has no rendition %q", a.ID, rid))
		return
	}
	switch file := r.PathValue("file"); file {
	case "media.m3u8":
		servePlaylist(w, r, rend.MediaPlaylist())
	case "hashes.json":
		n.peers.serveHashList(w, r, vodSwarm(a.ID, rid))
	default:
		// init.mp4 and seg-N.m4s: the name is parsed here, once.
		ref, err := segsource.Parse(a.ID, rid, file)
		switch {
		case errors.Is(err, segsource.ErrBadName):
			httpx.Error(w, http.StatusBadRequest, err.Error())
		case err != nil:
			httpx.Error(w, http.StatusNotFound, fmt.Sprintf("no file %q", file))
		case ref.Kind == segsource.KindInit:
			httpx.ServeBytes(w, r, rend.Init(), contentType(rend), cacheImmutable)
		case ref.Number >= len(rend.Segments):
			httpx.Error(w, http.StatusNotFound, fmt.Sprintf("rendition %q has %d segments, no segment %d", rid, len(rend.Segments), ref.Number))
		default:
			n.serveSegment(w, r, rend, ref)
		}
	}
}

func contentType(rend *vod.Rendition) string {
	if rend.Kind == mp4.KindAudio {
		return "audio/mp4"
	}
	return "video/mp4"
}

// serveSegment answers from the segment source: the cache, else the one
// fill of the segment in the cluster (node/internal/segsource); every
// concurrent request streams while it fills.
func (n *vodMedia) serveSegment(w http.ResponseWriter, r *http.Request, rend *vod.Rendition, ref segsource.SegmentRef) {
	e, err := n.segments.Get(r.Context(), ref)
	if err != nil {
		n.fillError(w, r, err)
		return
	}
	defer e.Release()
	cw := &countingWriter{ResponseWriter: w}
	swarm := vodSwarm(ref.Asset, ref.Rendition)
	num := uint64(ref.Number)
	h := w.Header()
	h.Set("Content-Type", contentType(rend))
	h.Set("Cache-Control", cacheImmutable)
	h.Set("X-Cache", e.Tier())
	if sum, ok := e.SHA256(); ok {
		n.peers.segmentHash(swarm, num, sum, e.Size()) // before any peer can have it
		httpx.ServeBody(cw, r, httpx.Body{Tag: httpx.TagOf(sum[:]), Bytes: e.Bytes(), File: e.ReadSeeker(), Size: e.Size()})
		n.peers.segmentServed(r, swarm, cw.n)
		return
	}
	if sum, ok := n.streamFilling(cw, r, e, e.Size()); ok {
		n.peers.segmentHash(swarm, num, sum, e.Size())
	}
	n.peers.segmentServed(r, swarm, cw.n)
}

// vodSwarm is the peer-assistance swarm of a VOD rendition.
func vodSwarm(asset, rendition string) string { return wire.SwarmID(wire.KindVOD, asset, rendition) }

// streamFilling sends an entry that is still being filled. Range requests
// wait for the body (segments are small); plain GETs stream as bytes arrive.
// It returns the SHA-256 of the whole body when it read all of it.
func (n *vodMedia) streamFilling(w http.ResponseWriter, r *http.Request, e *cache.Entry, size int64) (sum [32]byte, ok bool) {
	rd := e.NewReader(r.Context())
	defer rd.Close()
	if r.Header.Get("Range") != "" {
		body, err := io.ReadAll(rd)
		if err != nil {
			n.fillError(w, r, err)
			return sum, false
		}
		sum = sha256.Sum256(body)
		httpx.ServeBody(w, r, httpx.Body{Tag: httpx.TagOf(sum[:]), Bytes: body})
		return sum, int64(len(body)) == size
	}
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	if r.Method == http.MethodHead {
		return sum, false
	}
	hash := sha256.New()
	if err := copyFlushing(w, io.TeeReader(rd, hash)); err != nil {
		if r.Context().Err() == nil {
			n.logger.Warn("node: segment fill failed mid-stream", "path", r.URL.Path, "err", err)
		}
		// Headers are gone: abort the connection so the client sees a
		// truncated body instead of a short, apparently complete one.
		panic(http.ErrAbortHandler)
	}
	hash.Sum(sum[:0])
	return sum, true
}

// copyFlushing streams a filling body to the learner. It flushes when it
// has caught up with the fill (a short read: nothing more is there yet) or
// every flushEvery bytes, so bytes reach the learner as soon as they exist
// without a syscall per small chunk (a peer fill arrives in QUIC frames of
// about a kilobyte).
func copyFlushing(w http.ResponseWriter, r io.Reader) error {
	const flushEvery = 256 << 10
	rc := http.NewResponseController(w)
	buf := make([]byte, 64<<10)
	pending := 0
	for {
		n, err := io.ReadAtLeast(r, buf, 1)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			pending += n
			if n < len(buf)/2 || pending >= flushEvery {
				_ = rc.Flush()
				pending = 0
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// fillError maps a failed fill to a status: a failed asset is 422, an
// origin timeout 504, any other origin problem 502.
func (n *vodMedia) fillError(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusBadGateway
	switch {
	case r.Context().Err() != nil:
		return // the client went away
	case errors.Is(err, vod.ErrAssetFailed):
		code = http.StatusUnprocessableEntity
	case errors.Is(err, vod.ErrNotFound), errors.Is(err, origin.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, vod.ErrStale):
		// The source changed under the index; it is being re-indexed.
		code = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "2")
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		code = http.StatusGatewayTimeout
	}
	n.logger.Warn("node: segment fill failed", "path", r.URL.Path, "status", code, "err", err)
	httpx.Error(w, code, err.Error())
}

// missRefreshEvery bounds how often a request for an asset that the catalog
// knows but the library does not yet (a recording that just ended, media
// added on an origin) triggers a rescan.
const missRefreshEvery = time.Second

// refreshForCatalogAsset rescans the library when the catalog replica
// has asset id and the library does not; it reports whether it rescanned.
func (n *vodMedia) refreshForCatalogAsset(ctx context.Context, id string) bool {
	if n.catalog == nil {
		return false
	}
	if rec, err := n.catalog.Asset(id); err != nil || rec.Status != "ready" {
		return false
	}
	now := time.Now().UnixNano()
	last := n.lastMissRefresh.Load()
	if now-last < int64(missRefreshEvery) || !n.lastMissRefresh.CompareAndSwap(last, now) {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := n.library.Refresh(ctx); err != nil {
		n.logger.Warn("node: rescan for a catalog asset", "asset", id, "err", err)
	}
	return true
}
