package httpx

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/classmesh/classmesh/internal/httprange"
)

// Body is a complete representation whose bytes never change under Tag.
// It is in memory (Bytes) or readable from File (a cache file, so plain
// GETs can go out with sendfile).
type Body struct {
	// Tag is the strong ETag, quoted. Empty: Tag(Bytes).
	Tag string
	// Bytes is the body in memory; nil when File is set.
	Bytes []byte
	// File is the body when Bytes is nil; Size is its length.
	File io.ReadSeeker
	// Size is the length of File; ignored when Bytes is set.
	Size int64
}

// Tag is the ETag of body: the first 128 bits of its SHA-256, quoted.
func Tag(body []byte) string {
	sum := sha256.Sum256(body)
	return TagOf(sum[:])
}

// TagOf is the ETag of a body whose SHA-256 is sum (at least 16 bytes).
func TagOf(sum []byte) string { return `"` + hex.EncodeToString(sum[:16]) + `"` }

// ServeBytes serves body with its content type and cache policy, its ETag
// Tag(body).
func ServeBytes(w http.ResponseWriter, r *http.Request, body []byte, contentType, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", cacheControl)
	ServeBody(w, r, Body{Bytes: body})
}

// ServeBody sends b, with the Content-Type and Cache-Control the caller
// set. Plain GETs and HEADs, by far the most common requests for media,
// take a fast path: a memory body goes out in one write (when a live part
// appears every held viewer is answered at once, and http.ServeContent's
// 32 KiB copies would multiply the syscalls of that burst), a file through
// the ResponseWriter's ReadFrom so net/http can use sendfile. An
// If-None-Match that names the tag (or "*") is a 304. Range and the other
// conditional requests go through http.ServeContent, which implements
// them fully, after httprange.Apply has answered unsatisfiable ranges and
// coalesced or dropped the rest.
func ServeBody(w http.ResponseWriter, r *http.Request, b Body) {
	size := b.Size
	if b.Bytes != nil || b.File == nil {
		size = int64(len(b.Bytes))
	}
	tag := b.Tag
	if tag == "" {
		tag = Tag(b.Bytes)
	}
	h := w.Header()
	h.Set("ETag", tag)
	hdr := r.Header
	if inm := hdr.Get("If-None-Match"); inm != "" && hdr.Get("Range") == "" {
		if inm == "*" || strings.Contains(inm, tag) {
			h.Del("Content-Type")
			h.Del("Content-Length")
			h.Del("Content-Encoding")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if hdr.Get("Range") != "" || hdr.Get("If-Match") != "" || hdr.Get("If-Unmodified-Since") != "" || hdr.Get("If-Range") != "" {
		rs := b.File
		if b.Bytes != nil || rs == nil {
			rs = bytes.NewReader(b.Bytes)
		}
		if httprange.Apply(w, r, size) == httprange.Unsatisfiable {
			return
		}
		http.ServeContent(w, r, "", time.Time{}, rs)
		return
	}
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if b.Bytes != nil || b.File == nil {
		_, _ = w.Write(b.Bytes)
		return
	}
	// Hand the file to the ResponseWriter's ReadFrom so net/http can use
	// sendfile; io.Copy would prefer *os.File's WriteTo, which hides the
	// file from that check.
	if rf, ok := w.(io.ReaderFrom); ok {
		_, _ = rf.ReadFrom(b.File)
		return
	}
	_, _ = io.Copy(w, b.File)
}
