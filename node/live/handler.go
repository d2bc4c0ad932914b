package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/classmesh/classmesh/internal/httpx"
)

// Content types.
const (
	typePlaylist = "application/vnd.apple.mpegurl"
	typeMP4      = "video/mp4"
)

// Cache lifetimes.
const (
	// cacheBlocking is for answers to blocking reloads: their URL names the
	// part they waited for, so a shared cache may keep them briefly.
	cacheBlocking = "public, max-age=2"
	// cachePlaylist is for plain playlist requests, which change with
	// every part.
	cachePlaylist = "no-cache"
)

// Handler serves the live URL space, mounted at /live/:
//
//	/live/{session}/master.m3u8
//	/live/{session}/{rendition}/media.m3u8[?_HLS_msn=&_HLS_part=&_HLS_skip=]
//	/live/{session}/{rendition}/init.mp4 (newest) and init-{id}.mp4
//	/live/{session}/{rendition}/seg-{msn}.m4s and part-{msn}.{i}.m4s
func (m *Manager) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /live/{session}/master.m3u8", m.serveMaster)
	mux.HandleFunc("GET /live/{session}/{rendition}/{file}", m.serveFile)
	return mux
}

// hold runs wait for at most d (or until the client leaves), counting the
// request as held meanwhile.
func (m *Manager) hold(r *http.Request, d time.Duration, wait func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(r.Context(), d)
	defer cancel()
	m.held.Add(1)
	m.metrics.hold(1)
	defer func() {
		m.held.Add(-1)
		m.metrics.hold(-1)
	}()
	return wait(ctx)
}

// holdFailed answers a wait that did not succeed; it reports false when
// the caller should go on (the track ended: serve what there is).
func holdFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil, errors.Is(err, ErrEnded):
		return false
	case r.Context().Err() != nil:
		return true // the client left
	default:
		w.Header().Set("Retry-After", "1")
		httpx.Error(w, http.StatusServiceUnavailable, "not available in time")
		return true
	}
}

func (m *Manager) serveMaster(w http.ResponseWriter, r *http.Request) {
	s, ok := m.Lookup(r.PathValue("session"))
	if !ok {
		httpx.Error(w, http.StatusNotFound, "no such live session")
		return
	}
	body, ok := s.master()
	if !ok {
		// Right after the publisher started: wait for the first part.
		err := m.hold(r, 3*m.cfg.SegmentTarget, func(ctx context.Context) error {
			for _, t := range s.Tracks() {
				if err := t.Wait(ctx, -1, 0); err != nil {
					return err
				}
			}
			if len(s.Tracks()) == 0 {
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		})
		if holdFailed(w, r, err) {
			return
		}
		if body, ok = s.master(); !ok {
			httpx.Error(w, http.StatusServiceUnavailable, "session has no media yet")
			return
		}
	}
	httpx.ServeBytes(w, r, body, typePlaylist, cachePlaylist)
}

func (m *Manager) serveFile(w http.ResponseWriter, r *http.Request) {
	s, ok := m.Lookup(r.PathValue("session"))
	if !ok {
		httpx.Error(w, http.StatusNotFound, "no such live session")
		return
	}
	t, ok := s.Track(r.PathValue("rendition"))
	if !ok {
		httpx.Error(w, http.StatusNotFound, "no such rendition")
		return
	}
	file := r.PathValue("file")
	switch {
	case file == "media.m3u8":
		m.serveMedia(w, r, s, t)
	case file == "init.mp4":
		b, _, ok := t.LatestInit()
		m.serveInit(w, r, ok, b)
	case strings.HasPrefix(file, "init-") && strings.HasSuffix(file, ".mp4"):
		id, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(file, "init-"), ".mp4"), 16, 32)
		b, ok := t.Init(uint32(id))
		m.serveInit(w, r, err == nil && ok, b)
	case strings.HasPrefix(file, "seg-") && strings.HasSuffix(file, ".m4s"):
		m.serveSegment(w, r, t, strings.TrimSuffix(strings.TrimPrefix(file, "seg-"), ".m4s"))
	case strings.HasPrefix(file, "part-") && strings.HasSuffix(file, ".m4s"):
		m.servePart(w, r, t, strings.TrimSuffix(strings.TrimPrefix(file, "part-"), ".m4s"))
	default:
		httpx.Error(w, http.StatusNotFound, "no such file")
	}
}

// mediaCache is the Cache-Control of media files: they never change, and
// are gone once out of the DVR window.
func (m *Manager) mediaCache() string {
	return "public, max-age=" + strconv.Itoa(int(m.cfg.DVRWindow.Seconds()))
}

// serveInit serves an init segment, if there is one.
func (m *Manager) serveInit(w http.ResponseWriter, r *http.Request, ok bool, b []byte) {
	if !ok {
		httpx.Error(w, http.StatusNotFound, "no such file")
		return
	}
	httpx.ServeBytes(w, r, b, typeMP4, m.mediaCache())
}

// serveMedia serves a media playlist, holding blocking reloads.
func (m *Manager) serveMedia(w http.ResponseWriter, r *http.Request, s *Session, t *Track) {
	q, err := parseHLSQuery(r.URL.RawQuery)
	if err != nil {
		httpx.Error(w, http.StatusBadRequest, err.Error())
		return
	}
	s.viewers.note(viewerKey(r), m.cfg.Now(), m.cfg.ViewerWindow)
	msn, part := int64(-1), 0 // without a blocking request: wait for any part
	if q.block {
		if msg := t.tooFarAhead(q); msg != "" {
			httpx.Error(w, http.StatusBadRequest, msg)
			return
		}
		msn, part = q.msn, q.part
	}
	if !t.reached(msn, part) {
		err := m.hold(r, t.holdTimeout(), func(ctx context.Context) error { return t.Wait(ctx, msn, part) })
		if holdFailed(w, r, err) {
			return
		}
	}
	reports := s.reports(t)
	t.mu.Lock()
	if len(t.segs) == 0 { // ended before any part
		t.mu.Unlock()
		httpx.Error(w, http.StatusNotFound, "rendition has no media")
		return
	}
	body := t.playlistLocked(q.skip, reports)
	ended := t.ended
	t.mu.Unlock()
	cache := cachePlaylist
	switch {
	case ended:
		cache = m.mediaCache()
	case q.block:
		cache = cacheBlocking
	}
	httpx.ServeBytes(w, r, body, typePlaylist, cache)
}

// viewerKey identifies a requester for the viewer count: its address
// without the port, and its User-Agent.
func viewerKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ua := r.UserAgent()
	if len(ua) > 256 {
		ua = ua[:256]
	}
	return host + "\x00" + ua
}

// reports returns the rendition reports of the session's other tracks.
func (s *Session) reports(self *Track) []renditionReport {
	var out []renditionReport
	for _, t := range s.Tracks() {
		if t == self {
			continue
		}
		if msn, part, ok := t.Last(); ok {
			out = append(out, renditionReport{uri: reportURI(t.name), msn: msn, part: part})
		}
	}
	return out
}

// reached reports whether the track lists (msn, part) or later.
func (t *Track) reached(msn int64, part int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.reachedLocked(msn, part)
}

// tooFarAhead returns why a blocking request asks for a segment or part
// too far in the future (answered with 400), or "".
func (t *Track) tooFarAhead(q hlsQuery) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lastMSN, lastPart, ok := t.lastLocked()
	if !ok {
		return "" // nothing yet: any first request may wait
	}
	if q.msn > lastMSN+2 {
		return fmt.Sprintf("_HLS_msn=%d is more than two segments after %d", q.msn, lastMSN)
	}
	limit := advancePartLimit(t.stateLocked(false).partTarget)
	switch {
	case q.part >= 0 && q.msn == lastMSN && q.part > lastPart+limit:
		return fmt.Sprintf("_HLS_part=%d is more than %d parts after %d", q.part, limit, lastPart)
	case q.part > limit && q.msn > lastMSN:
		return fmt.Sprintf("_HLS_part=%d of a future segment is more than %d parts ahead", q.part, limit)
	}
	return ""
}

// parsePartName parses "{msn}.{i}".
func parsePartName(s string) (int64, int, bool) {
	a, b, ok := strings.Cut(s, ".")
	msn, err1 := strconv.ParseInt(a, 10, 64)
	idx, err2 := strconv.Atoi(b)
	return msn, idx, ok && err1 == nil && err2 == nil && msn >= 0 && idx >= 0 && idx < MaxPartsPerSegment
}

// servePart serves a part; a part about to be produced (the preload hint,
// or a few parts ahead) is held until it exists.
func (m *Manager) servePart(w http.ResponseWriter, r *http.Request, t *Track, name string) {
	msn, idx, ok := parsePartName(name)
	if !ok {
		httpx.Error(w, http.StatusNotFound, "bad part name")
		return
	}
	p, ok := t.Part(msn, idx)
	if !ok && t.soon(msn, idx) {
		err := m.hold(r, t.holdTimeout(), func(ctx context.Context) error { return t.Wait(ctx, msn, idx) })
		if holdFailed(w, r, err) {
			return
		}
		p, ok = t.Part(msn, idx)
	}
	if !ok || p.Gap {
		httpx.Error(w, http.StatusNotFound, "no such part")
		return
	}
	httpx.ServeBytes(w, r, p.Data, typeMP4, m.mediaCache())
}

// soon reports whether part (msn, idx) may still appear shortly: in the
// open segment or the next one, within the advance part limit.
func (t *Track) soon(msn int64, idx int) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return false
	}
	next, ok := t.nextLocked()
	if !ok {
		return false
	}
	limit := advancePartLimit(t.stateLocked(false).partTarget)
	switch msn {
	case next.msn:
		return idx >= next.index && idx <= next.index+limit
	case next.msn + 1:
		return idx <= limit
	}
	return false
}

// serveSegment serves a whole segment (its parts concatenated); the open
// segment is held until complete.
func (m *Manager) serveSegment(w http.ResponseWriter, r *http.Request, t *Track, name string) {
	msn, err := strconv.ParseInt(name, 10, 64)
	if err != nil || msn < 0 {
		httpx.Error(w, http.StatusNotFound, "bad segment name")
		return
	}
	parts, ok := t.Segment(msn)
	if !ok {
		if last, _, has := t.Last(); has && msn == last && !t.reached(msn, -1) {
			werr := m.hold(r, t.holdTimeout(), func(ctx context.Context) error { return t.Wait(ctx, msn, -1) })
			if holdFailed(w, r, werr) {
				return
			}
			parts, ok = t.Segment(msn)
		}
	}
	if !ok {
		httpx.Error(w, http.StatusNotFound, "no such segment")
		return
	}
	httpx.ServeBytes(w, r, bytes.Join(parts, nil), typeMP4, m.mediaCache())
}
