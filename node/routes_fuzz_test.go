package node

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRoutes sends arbitrary request paths through the whole router of a
// node serving the demo library. Whatever the path, the answer is a clean
// 2xx/3xx/4xx (never a 5xx, never a panic), and only well-formed media
// URLs of existing assets get media bytes.
func FuzzRoutes(f *testing.F) {
	for _, seed := range []string{
		"/v/demo/master.m3u8", "/v/demo/720p/media.m3u8", "/v/demo/720p/init.mp4",
		"/v/demo/720p/seg-0.m4s", "/v/demo/audio/seg-4.m4s", "/v/demo/720p/seg-99.m4s",
		"/v/../../etc/passwd", "/v/%2e%2e/x", "/v/demo/..%2f..%2f/seg-1.m4s", "/v/demo%00/master.m3u8",
		"/v/demo/720p/seg--1.m4s", "/v/demo/720p/seg-0x1.m4s", "/v/demo/720p/seg-1e3.m4s",
		"/api/v1/assets/demo", "/api/v1/assets/%ff", "/watch/demo", "/", "//", "/v/demo/720p/seg-00.m4s",
		"/t/AAAA/v/demo/master.m3u8", "/t/AAAA/live/class/master.m3u8", "/t/AAAA/live/", "/t/AAAA/watch/demo",
		"/t/AAAA/p2p/ws", "/live/demo/video/hashes.json", "/t//live/x/master.m3u8",
	} {
		f.Add(seed)
	}
	n := mustNewNode(f, Config{MediaDir: demoDir(f), DiskCacheBytes: -1})
	f.Fuzz(func(t *testing.T, path string) {
		req, err := http.NewRequest(http.MethodGet, "http://classmesh.test"+"/"+strings.TrimPrefix(path, "/"), nil)
		if err != nil {
			return // not a URL a client could send
		}
		rec := httptest.NewRecorder()
		n.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%q: status %d: %s", path, rec.Code, rec.Body.String())
		}
		ct := rec.Header().Get("Content-Type")
		if rec.Code == 200 && (ct == "video/mp4" || ct == "audio/mp4") {
			p := req.URL.Path
			if !strings.HasPrefix(p, "/v/demo/") || badPath(p, req.URL.EscapedPath()) != "" {
				t.Fatalf("%q: media bytes for a path outside the media URL space (%s)", path, p)
			}
		}
	})
}
