package player

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
)

// requireBuilt skips (or fails when CI=true) unless dist/ holds a build.
func requireBuilt(t testing.TB) {
	t.Helper()
	if err := CheckBuilt(Assets()); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v", err)
		}
		t.Skipf("%v", err)
	}
}

// assetRef finds the local scripts and styles a page refers to.
var assetRef = regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`)

// externalRef finds references that would load something from another origin.
var externalRef = regexp.MustCompile(`(?i)(?:src|href|url)\s*[=(]\s*["']?(?:https?:)?//`)

func TestEmbeddedBuild(t *testing.T) {
	requireBuilt(t)
	h := Handler()
	pages := []struct{ path, file string }{
		{"/", pageIndex},
		{"/watch/demo", pageWatch},
		{"/nowhere", pageNotFound},
	}
	for _, p := range pages {
		t.Run(p.file, func(t *testing.T) {
			rec := do(t, h, "GET", p.path, nil)
			body := rec.Body.String()
			if !strings.HasPrefix(body, "<!doctype html>") {
				t.Fatalf("%s: not an HTML page: %.80q", p.path, body)
			}
			if m := externalRef.FindString(body); m != "" {
				t.Errorf("%s refers to another origin: %q", p.file, m)
			}
			refs := assetRef.FindAllStringSubmatch(body, -1)
			if len(refs) == 0 {
				t.Fatalf("%s refers to no /assets/ files", p.file)
			}
			for _, ref := range refs {
				a := do(t, h, "GET", ref[1], nil)
				if a.Code != http.StatusOK {
					t.Errorf("%s: %s answers %d", p.file, ref[1], a.Code)
				}
				if got := a.Header().Get("Cache-Control"); got != cacheImmutable {
					t.Errorf("%s: Cache-Control = %q, want immutable", ref[1], got)
				}
			}
		})
	}
}

// TestEmbeddedAssetsLocal checks the stylesheets load nothing from elsewhere
// (no web fonts, no remote images).
func TestEmbeddedAssetsLocal(t *testing.T) {
	requireBuilt(t)
	css, err := fs.Glob(Assets(), "assets/*.css")
	if err != nil || len(css) == 0 {
		t.Fatalf("no stylesheets in the build: %v", err)
	}
	for _, name := range css {
		b, err := fs.ReadFile(Assets(), name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "@import") || externalRef.Match(b) {
			t.Errorf("%s loads from another origin", name)
		}
	}
}

// FuzzHandlerPath: no request path makes the handler panic or answer
// anything but 200 (with a Content-Type) or 404.
func FuzzHandlerPath(f *testing.F) {
	for _, seed := range []string{"/", "/watch/demo", "/watch/", "/watch/a/b", "/assets/watch-ABCD2345.js",
		"/assets/", "/assets/../watch.html", "/%2e%2e/", "/watch/%00", "//", "/index.html"} {
		f.Add(seed)
	}
	h := NewHandler(testFS())
	f.Fuzz(func(t *testing.T, p string) {
		req, err := http.NewRequest("GET", "http://example.test/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.Path = "/" + strings.TrimPrefix(p, "/")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusNotFound {
			t.Fatalf("path %q: status %d", req.URL.Path, rec.Code)
		}
		if rec.Code == http.StatusOK && rec.Header().Get("Content-Type") == "" {
			t.Fatalf("path %q: no Content-Type", req.URL.Path)
		}
	})
}
