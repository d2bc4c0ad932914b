package player

import (
	"html"
	"io/fs"
	"net/http"
	"strings"

	"github.com/classmesh/classmesh/internal/httpx"
)

// contentSecurityPolicy keeps the pages to their own scripts and styles.
// Media and playlist requests may go anywhere (connect-src, media-src), and
// any site may embed the player (frame-ancestors), e.g. a learning platform.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; media-src 'self' blob: data: *; connect-src *; worker-src 'self' blob:; " +
	"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors *"

// handler serves a loaded build.
type handler struct {
	files map[string]*file
}

// NewHandler serves the build output in fsys (the contents of dist/):
//
//	/                 the course page (index.html)
//	/watch/{id}       the player page (watch.html) for any asset id
//	/t/{token}/watch/{id}  the same page for a signed link (private lectures)
//	/assets/{file}    scripts and styles; hashed names are cached for a year
//
// Anything else is a 404 page. Only GET and HEAD are allowed. If fsys holds
// no build (see CheckBuilt) or cannot be read, every request is answered
// with 503 and a page saying how to build the assets.
func NewHandler(fsys fs.FS) http.Handler {
	files, err := loadFiles(fsys)
	if err != nil {
		return notBuilt{err: err}
	}
	return &handler{files: files}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		httpx.Error(w, http.StatusMethodNotAllowed, "player: method not allowed")
		return
	}
	f := h.route(r.URL.Path)
	if f == nil {
		h.notFound(w, r)
		return
	}
	serveFile(w, r, f)
}

// route maps a request path to a file, or nil.
func (h *handler) route(p string) *file {
	switch {
	case p == "/" || p == "/index.html":
		return h.files[pageIndex]
	case strings.HasPrefix(p, "/watch/"):
		if isWatchID(strings.TrimPrefix(p, "/watch/")) {
			return h.files[pageWatch]
		}
		return nil
	case strings.HasPrefix(p, "/t/"):
		// /t/{token}/watch/{id}: the player page of a signed link. The
		// page checks the token with the edge; here only the shape.
		tok, rest, ok := strings.Cut(strings.TrimPrefix(p, "/t/"), "/watch/")
		if ok && isToken(tok) && isWatchID(rest) {
			return h.files[pageWatch]
		}
		return nil
	case strings.HasPrefix(p, "/assets/"):
		return h.files[strings.TrimPrefix(p, "/")]
	}
	return nil
}

// isToken accepts the shape of a playback token: 1 to 512 characters of
// the URL-safe base64 alphabet.
func isToken(s string) bool {
	if s == "" || len(s) > 512 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// isWatchID accepts one non-empty path segment, optionally with a trailing
// slash.
func isWatchID(rest string) bool {
	rest = strings.TrimSuffix(rest, "/")
	return rest != "" && !strings.Contains(rest, "/")
}

func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Content-Type-Options", "nosniff")
	f := h.files[pageNotFound]
	if f == nil {
		httpx.Error(w, http.StatusNotFound, "player: not found")
		return
	}
	hdr.Set("Content-Type", f.ctype)
	hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	w.WriteHeader(http.StatusNotFound)
	if r.Method != http.MethodHead {
		_, _ = w.Write(f.body)
	}
}

// serveFile writes f with its caching headers, gzip-encoded when the client
// accepts it; conditional and range requests are handled by
// httpx.ServeBody.
func serveFile(w http.ResponseWriter, r *http.Request, f *file) {
	hdr := w.Header()
	hdr.Set("Content-Type", f.ctype)
	hdr.Set("Cache-Control", f.cache)
	hdr.Set("X-Content-Type-Options", "nosniff")
	if f.ctype == contentTypes[".html"] {
		hdr.Set("Content-Security-Policy", contentSecurityPolicy)
		hdr.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	}
	body, etag := f.body, f.etag
	if f.gz != nil {
		hdr.Add("Vary", "Accept-Encoding")
		if httpx.Encoding(r.Header.Values("Accept-Encoding"), "gzip") != "" {
			body, etag = f.gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
			hdr.Set("Content-Encoding", "gzip")
		}
	}
	httpx.ServeBody(w, r, httpx.Body{Tag: etag, Bytes: body})
}

// notBuilt answers every request with 503 and build instructions.
type notBuilt struct {
	err error
}

func (nb notBuilt) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Retry-After", "60")
	w.WriteHeader(http.StatusServiceUnavailable)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write([]byte(notBuiltPage(nb.err)))
}

func notBuiltPage(err error) string {
	msg := "player assets are not built: run make player"
	detail := ""
	if err != nil && err != ErrNotBuilt {
		detail = "<p><code>" + html.EscapeString(err.Error()) + "</code></p>\n"
	}
	return "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>classmesh: player not built</title></head>\n" +
		"<body>\n<h1>Service unavailable</h1>\n<p>" + msg + "</p>\n" +
		"<p>The course pages are bundled by npm into <code>player/dist/</code> and embedded into the binary. " +
		"Run <code>make player</code> (or <code>cd player &amp;&amp; npm ci &amp;&amp; npm run build</code>), then rebuild classmesh.</p>\n" +
		detail + "</body>\n</html>\n"
}
