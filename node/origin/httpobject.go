package origin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/singleflight"
)

// remoteInfo is what Open learns about a remote file.
type remoteInfo struct {
	size    int64
	etag    string
	lastMod string
}

// identity is the ETag, else size and Last-Modified, else the size.
func (ri remoteInfo) identity() string {
	switch {
	case ri.etag != "":
		return ri.etag
	case ri.lastMod != "":
		return strconv.FormatInt(ri.size, 10) + "-" + ri.lastMod
	}
	return strconv.FormatInt(ri.size, 10)
}

// Open learns the size and identity of the file at the library-relative
// path p with a HEAD request, or a one-byte range GET when HEAD is refused
// or gives no length. No body bytes are fetched until ReadAt.
func (h *HTTP) Open(ctx context.Context, p string) (Object, error) {
	if _, err := CleanPath(p); err != nil {
		return nil, err
	}
	u := h.urlOf(p)
	ri, ok, err := h.head(ctx, u)
	if err == nil && !ok {
		ri, err = h.probe(ctx, u)
	}
	if err != nil {
		return nil, err
	}
	octx, cancel := context.WithCancel(context.Background())
	o := &httpObject{
		h: h, url: u, info: ri, id: ri.identity(),
		block: h.cfg.ReadAhead, ctx: octx, cancel: cancel,
		cache: newBlockLRU(int(max(1, h.cfg.CacheBytes/h.cfg.ReadAhead))),
	}
	return o, nil
}

// head sends HEAD; ok is false when the caller should probe with GET.
func (h *HTTP) head(ctx context.Context, u string) (remoteInfo, bool, error) {
	resp, cancel, err := h.do(ctx, http.MethodHead, u, identityHeader())
	if err != nil {
		return remoteInfo{}, false, err
	}
	defer cancel()
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK && resp.ContentLength >= 0:
		return infoOf(resp, resp.ContentLength), true, nil
	case resp.StatusCode == http.StatusOK, resp.StatusCode == http.StatusMethodNotAllowed,
		resp.StatusCode == http.StatusNotImplemented, resp.StatusCode == http.StatusForbidden:
		return remoteInfo{}, false, nil
	}
	return remoteInfo{}, false, statusErr("HEAD "+u, resp.StatusCode)
}

// probe learns the size with a "Range: bytes=0-0" GET.
func (h *HTTP) probe(ctx context.Context, u string) (remoteInfo, error) {
	hdr := identityHeader()
	hdr.Set("Range", "bytes=0-0")
	resp, cancel, err := h.do(ctx, http.MethodGet, u, hdr)
	if err != nil {
		return remoteInfo{}, err
	}
	defer cancel()
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent, http.StatusRequestedRangeNotSatisfiable:
		_, _, total, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil || total < 0 {
			return remoteInfo{}, fmt.Errorf("origin: GET %s: bad Content-Range: %w", u, ErrUnavailable)
		}
		_, err = h.readBody(resp, 1, u)
		return infoOf(resp, total), err
	case http.StatusOK:
		data, err := h.readBody(resp, h.cfg.ReadAhead, u)
		if err != nil {
			return remoteInfo{}, fmt.Errorf("origin: GET %s: server ignores Range: %w", u, err)
		}
		return infoOf(resp, int64(len(data))), nil
	}
	return remoteInfo{}, statusErr("GET "+u, resp.StatusCode)
}

func infoOf(resp *http.Response, size int64) remoteInfo {
	return remoteInfo{size: size, etag: resp.Header.Get("ETag"), lastMod: resp.Header.Get("Last-Modified")}
}

func identityHeader() http.Header {
	return http.Header{"Accept-Encoding": {"identity"}}
}

// parseContentRange parses "bytes first-last/total" (total may be "*",
// returned as -1) and "bytes */total" (first and last returned as -1).
func parseContentRange(s string) (first, last, total int64, err error) {
	bad := fmt.Errorf("origin: bad Content-Range %q", truncate(s, 80))
	rest, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return 0, 0, 0, bad
	}
	rng, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, 0, bad
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil || total < 0 {
			return 0, 0, 0, bad
		}
	}
	if rng == "*" {
		return -1, -1, total, nil
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, 0, bad
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first < 0 || last < first || total >= 0 && last >= total {
		return 0, 0, 0, bad
	}
	return first, last, total, nil
}

// httpObject reads a remote file in aligned blocks of ReadAhead bytes,
// keeping the most recent blocks in a small LRU; concurrent readers of the
// same block share one request.
type httpObject struct {
	h      *HTTP
	url    string
	info   remoteInfo
	id     string
	block  int64
	ctx    context.Context // cancelled by Close; aborts fetches
	cancel context.CancelFunc
	group  singleflight.Group

	mu    sync.Mutex
	cache *blockLRU
}

func (o *httpObject) Size() int64      { return o.info.size }
func (o *httpObject) Identity() string { return o.id }

// Close aborts fetches in flight and drops the cache.
func (o *httpObject) Close() error {
	o.cancel()
	o.mu.Lock()
	o.cache.clear()
	o.mu.Unlock()
	return nil
}

// ReadAt implements io.ReaderAt.
func (o *httpObject) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("origin: read %s: negative offset", o.url)
	}
	if o.ctx.Err() != nil {
		return 0, fmt.Errorf("origin: read %s: %w: %w", o.url, ErrUnavailable, os.ErrClosed)
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= o.info.size {
			return n, io.EOF
		}
		b := pos / o.block
		data, err := o.blockData(b)
		if err != nil {
			return n, err
		}
		n += copy(p[n:], data[pos-b*o.block:])
	}
	return n, nil
}

// blockData returns block b from the cache or the server.
func (o *httpObject) blockData(b int64) ([]byte, error) {
	o.mu.Lock()
	data, ok := o.cache.get(b)
	o.mu.Unlock()
	if ok {
		return data, nil
	}
	v, err, _ := o.group.Do(strconv.FormatInt(b, 10), func() (any, error) {
		data, err := o.fetch(b)
		if err != nil {
			return nil, err
		}
		o.mu.Lock()
		if o.ctx.Err() == nil {
			o.cache.put(b, data)
		}
		o.mu.Unlock()
		return data, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}
