package player

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// bigJS is large enough to be stored compressed.
var bigJS = strings.Repeat("console.log('classmesh');\n", 100)

// testFS is a small stand-in for a build.
func testFS() fstest.MapFS {
	return fstest.MapFS{
		".gitkeep":                  {Data: nil},
		"index.html":                {Data: []byte("<!doctype html><title>course</title>")},
		"watch.html":                {Data: []byte("<!doctype html><title>watch</title>")},
		"404.html":                  {Data: []byte("<!doctype html><title>missing</title>")},
		"assets/watch-ABCD2345.js":  {Data: []byte(bigJS)},
		"assets/style-QWER7890.css": {Data: []byte("body{}")},
		"assets/logo.svg":           {Data: []byte("<svg/>")},
		"assets/blob.bin":           {Data: []byte{0, 1, 2}},
	}
}

func do(t testing.TB, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestRoutes(t *testing.T) {
	h := NewHandler(testFS())
	tests := []struct {
		name, method, path string
		status             int
		ctype, cache, body string
	}{
		{"course page", "GET", "/", 200, "text/html; charset=utf-8", cacheHTML, "<title>course</title>"},
		{"index alias", "GET", "/index.html", 200, "text/html; charset=utf-8", cacheHTML, "<title>course</title>"},
		{"watch page", "GET", "/watch/demo", 200, "text/html; charset=utf-8", cacheHTML, "<title>watch</title>"},
		{"watch trailing slash", "GET", "/watch/demo/", 200, "text/html; charset=utf-8", cacheHTML, "<title>watch</title>"},
		{"watch any id", "GET", "/watch/lecture-01_b", 200, "text/html; charset=utf-8", cacheHTML, "<title>watch</title>"},
		{"watch with query", "GET", "/watch/demo?autoplay=1&muted=1", 200, "text/html; charset=utf-8", cacheHTML, "<title>watch</title>"},
		{"watch head", "HEAD", "/watch/demo", 200, "text/html; charset=utf-8", cacheHTML, ""},
		{"hashed script", "GET", "/assets/watch-ABCD2345.js", 200, "text/javascript; charset=utf-8", cacheImmutable, "classmesh"},
		{"hashed style", "GET", "/assets/style-QWER7890.css", 200, "text/css; charset=utf-8", cacheImmutable, "body{}"},
		{"unhashed svg", "GET", "/assets/logo.svg", 200, "image/svg+xml", cacheShort, "<svg/>"},
		{"unknown type", "GET", "/assets/blob.bin", 200, "application/octet-stream", cacheShort, "\x00\x01\x02"},
		{"watch without id", "GET", "/watch/", 404, "text/html; charset=utf-8", "no-cache", "<title>missing</title>"},
		{"watch nested", "GET", "/watch/a/b", 404, "text/html; charset=utf-8", "no-cache", "<title>missing</title>"},
		{"signed watch page", "GET", "/t/AbC-_09/watch/demo", 200, "text/html; charset=utf-8", cacheHTML, "<title>watch</title>"},
		{"signed watch, bad token", "GET", "/t/a.b/watch/demo", 404, "text/html; charset=utf-8", "no-cache", "<title>missing</title>"},
		{"signed watch, no id", "GET", "/t/abc/watch/", 404, "text/html; charset=utf-8", "no-cache", "<title>missing</title>"},
		{"signed, not watch", "GET", "/t/abc/other/demo", 404, "text/html; charset=utf-8", "no-cache", "<title>missing</title>"},
		{"missing asset", "GET", "/assets/nope.js", 404, "text/html; charset=utf-8", "no-cache", "<title>missing</title>"},
		{"page not under assets", "GET", "/watch.html", 404, "text/html; charset=utf-8", "no-cache", "<title>missing</title>"},
		{"dot file hidden", "GET", "/assets/.gitkeep", 404, "text/html; charset=utf-8", "no-cache", "<title>missing</title>"},
		{"unknown path", "GET", "/favicon.ico", 404, "text/html; charset=utf-8", "no-cache", "<title>missing</title>"},
		{"post refused", "POST", "/", 405, "text/plain; charset=utf-8", "no-store", "method not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, h, tt.method, tt.path, nil)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d", rec.Code, tt.status)
			}
			if got := rec.Header().Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", got, tt.ctype)
			}
			if got := rec.Header().Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control = %q, want %q", got, tt.cache)
			}
			if tt.method == "HEAD" && rec.Body.Len() != 0 {
				t.Errorf("HEAD wrote a body of %d bytes", rec.Body.Len())
			}
			if !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("body %q does not contain %q", rec.Body.String(), tt.body)
			}
			if rec.Header().Get("X-Frame-Options") != "" {
				t.Errorf("X-Frame-Options set: the player must be embeddable")
			}
		})
	}
}

func TestHTMLHeaders(t *testing.T) {
	rec := do(t, NewHandler(testFS()), "GET", "/watch/demo", nil)
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors *", "script-src 'self'", "media-src 'self' blob:"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
}

func TestConditionalGet(t *testing.T) {
	h := NewHandler(testFS())
	first := do(t, h, "GET", "/watch/demo", nil)
	etag := first.Header().Get("ETag")
	if !regexp.MustCompile(`^"[0-9a-f]{24}"$`).MatchString(etag) {
		t.Fatalf("ETag = %q", etag)
	}
	second := do(t, h, "GET", "/watch/other", map[string]string{"If-None-Match": etag})
	if second.Code != http.StatusNotModified {
		t.Fatalf("status = %d, want 304", second.Code)
	}
	if second.Body.Len() != 0 {
		t.Errorf("304 with a body")
	}
}

func TestGzip(t *testing.T) {
	h := NewHandler(testFS())
	tests := []struct {
		name, accept string
		gzipped      bool
	}{
		{"none", "", false},
		{"gzip", "gzip, deflate, br", true},
		{"star", "*", true},
		{"gzip refused", "gzip;q=0, *", false},
		{"br only", "br", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(t, h, "GET", "/assets/watch-ABCD2345.js", map[string]string{"Accept-Encoding": tt.accept})
			if rec.Header().Get("Vary") != "Accept-Encoding" {
				t.Errorf("Vary = %q", rec.Header().Get("Vary"))
			}
			body := rec.Body.Bytes()
			if got := rec.Header().Get("Content-Encoding") == "gzip"; got != tt.gzipped {
				t.Fatalf("gzipped = %v, want %v", got, tt.gzipped)
			}
			if tt.gzipped {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
				if !strings.HasSuffix(rec.Header().Get("ETag"), `-gz"`) {
					t.Errorf("gzip ETag = %q", rec.Header().Get("ETag"))
				}
			}
			if string(body) != bigJS {
				t.Errorf("body differs from the file (%d bytes)", len(body))
			}
		})
	}
}

func TestNotBuilt(t *testing.T) {
	systems := map[string]fstest.MapFS{
		"only gitkeep": {".gitkeep": {}},
		"empty":        {},
		"no watch":     {"index.html": {Data: []byte("x")}},
	}
	for name, fsys := range systems {
		t.Run(name, func(t *testing.T) {
			if err := CheckBuilt(fsys); !errors.Is(err, ErrNotBuilt) {
				t.Fatalf("CheckBuilt = %v, want ErrNotBuilt", err)
			}
			h := NewHandler(fsys)
			for _, p := range []string{"/", "/watch/demo", "/assets/watch-ABCD2345.js"} {
				rec := do(t, h, "GET", p, nil)
				if rec.Code != http.StatusServiceUnavailable {
					t.Fatalf("%s: status = %d, want 503", p, rec.Code)
				}
				if !strings.Contains(rec.Body.String(), "player assets are not built: run make player") {
					t.Errorf("%s: body lacks the instructions: %s", p, rec.Body.String())
				}
				if got := rec.Header().Get("Cache-Control"); got != "no-store" {
					t.Errorf("%s: Cache-Control = %q", p, got)
				}
			}
		})
	}
}

func TestNotBuiltGolden(t *testing.T) {
	got := notBuiltPage(ErrNotBuilt)
	golden := filepath.Join("testdata", "notbuilt.golden.html")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("503 page differs from %s:\n%s", golden, got)
	}
}

func TestContentType(t *testing.T) {
	tests := map[string]string{
		"a.html": "text/html; charset=utf-8",
		"A.JS":   "text/javascript; charset=utf-8",
		"b.css":  "text/css; charset=utf-8",
		"c.txt":  "text/plain; charset=utf-8",
		"d":      "application/octet-stream",
		"e.m3u8": "application/octet-stream",
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			if got := contentType(name); got != want {
				t.Errorf("contentType(%q) = %q, want %q", name, got, want)
			}
		})
	}
}

func BenchmarkServeAsset(b *testing.B) {
	h := NewHandler(testFS())
	req := httptest.NewRequest("GET", "/assets/watch-ABCD2345.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
