package node

import (
	"bytes"
	"net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/classmesh/classmesh/internal/httpx"
)

// encodedPlaylist is one playlist with its precomputed validators and
// compressed forms. Playlists are small and asked for far more often than
// they change, so each form is computed once.
type encodedPlaylist struct {
	raw, gz, zst []byte
	etag         string
}

// playlistCache maps a playlist's body to its encoded forms. It is bounded
// by clearing itself when full: playlists are cheap to re-encode.
type playlistCache struct {
	mu sync.Mutex
	m  map[string]*encodedPlaylist
}

const (
	playlistCacheMax = 4096
	// minCompressBytes: below this a compressed body saves less than the
	// headers it costs.
	minCompressBytes = 128
)

var zstdEncoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(1))

func (c *playlistCache) get(body []byte) *encodedPlaylist {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.m[string(body)]; ok {
		return p
	}
	if c.m == nil || len(c.m) >= playlistCacheMax {
		c.m = make(map[string]*encodedPlaylist)
	}
	p := &encodedPlaylist{raw: body, etag: httpx.Tag(body)}
	if len(body) >= minCompressBytes {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		if b.Len() < len(body) {
			p.gz = b.Bytes()
		}
		if z := zstdEncoder.EncodeAll(body, nil); len(z) < len(body) {
			p.zst = z
		}
	}
	c.m[string(body)] = p
	return p
}

var playlists playlistCache

// servePlaylist sends an HLS playlist, compressed by Accept-Encoding.
func servePlaylist(w http.ResponseWriter, r *http.Request, body []byte) {
	p := playlists.get(body)
	h := w.Header()
	h.Set("Content-Type", "application/vnd.apple.mpegurl")
	h.Set("Cache-Control", cachePlaylist)
	h.Add("Vary", "Accept-Encoding")
	offers := make([]string, 0, 2)
	if p.zst != nil {
		offers = append(offers, "zstd")
	}
	if p.gz != nil {
		offers = append(offers, "gzip")
	}
	out, enc := p.raw, httpx.Encoding(r.Header.Values("Accept-Encoding"), offers...)
	switch enc {
	case "zstd":
		out = p.zst
	case "gzip":
		out = p.gz
	}
	tag := p.etag
	if enc != "" {
		h.Set("Content-Encoding", enc)
		tag = strings.TrimSuffix(tag, `"`) + "-" + enc + `"`
	}
	httpx.ServeBody(w, r, httpx.Body{Tag: tag, Bytes: out})
}
