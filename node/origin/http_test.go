package origin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// newTestHTTP returns an HTTP origin on srv, closed at the end of the test.
func newTestHTTP(t *testing.T, srv *httptest.Server, tweak func(*HTTPConfig)) *HTTP {
	t.Helper()
	cfg := HTTPConfig{BaseURL: srv.URL + "/", Client: srv.Client()}
	if tweak != nil {
		tweak(&cfg)
	}
	h, err := NewHTTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// fileServer serves dir with http.FileServer, which honours Range.
func fileServer(t testing.TB, dir string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv
}

// listingLibrary is a library without symbolic links, listed the same way
// by Dir and HTTP.
func listingLibrary(t *testing.T) string {
	t.Helper()
	lib := t.TempDir()
	for p, data := range map[string]string{
		"demo/720p.mp4":     "720",
		"demo/240p.MP4":     "240",
		"demo/asset.json":   `{"title": "Demo lecture", "description": "d"}`,
		"demo/.partial.mp4": "hidden",
		"demo/bad name.mp4": "bad",
		"broken/a.m4v":      "a",
		"broken/asset.json": `{"title": `,
		"empty/readme.txt":  "no mp4",
		"single.mov":        "single",
		"bad id/a.mp4":      "bad id",
		".hidden/a.mp4":     "hidden",
		"nested/top.mp4":    "top",
		"nested/deep/x.mp4": "deep",
	} {
		writeFile(t, lib, p, []byte(data))
	}
	return lib
}

func TestHTTPListIndexMatchesDir(t *testing.T) {
	lib := listingLibrary(t)
	d, err := NewDir(lib, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	want, err := d.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h := newTestHTTP(t, fileServer(t, lib), nil)
	got, err := h.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 4 || !reflect.DeepEqual(got, want) {
		t.Fatalf("HTTP List:\n got  %+v\n want %+v", got, want)
	}
}

func TestHTTPListManifest(t *testing.T) {
	lib := listingLibrary(t)
	writeFile(t, lib, "assets.json", []byte(`[{"id":"x","title":"X","files":["demo/720p.mp4"]}]`))
	h := newTestHTTP(t, fileServer(t, lib), nil)
	got, err := h.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []AssetSpec{{ID: "x", Title: "X", Files: []string{"demo/720p.mp4"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("List = %+v, want %+v", got, want)
	}
	if st := h.Stats(); st.Requests != 1 {
		t.Fatalf("listing with a manifest took %d requests, want 1", st.Requests)
	}
}

func TestHTTPListErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }},
		{"no index", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }},
		{"bad manifest", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/assets.json" {
				io.WriteString(w, "<html>")
				return
			}
			http.NotFound(w, r)
		}},
		{"subdirectory 500", func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/":
				io.WriteString(w, `<a href="demo/">demo/</a>`)
			case "/demo/":
				http.Error(w, "boom", 500)
			default:
				http.NotFound(w, r)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			h := newTestHTTP(t, srv, nil)
			got, err := h.List(context.Background())
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("List = %+v, %v; want ErrUnavailable", got, err)
			}
		})
	}
}

func TestHTTPOpen(t *testing.T) {
	lib := t.TempDir()
	data := randomBytes(100_000, 3)
	writeFile(t, lib, "demo/720p.mp4", data)
	fi, err := os.Stat(filepath.Join(lib, "demo", "720p.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	fs := http.FileServer(http.Dir(lib))
	noHead := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			http.Error(w, "no HEAD", http.StatusMethodNotAllowed)
			return
		}
		fs.ServeHTTP(w, r)
	})
	wantID := "100000-" + fi.ModTime().UTC().Format(http.TimeFormat)
	for name, handler := range map[string]http.Handler{"HEAD": fs, "range probe": noHead} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(handler)
			defer srv.Close()
			h := newTestHTTP(t, srv, nil)
			o, err := h.Open(context.Background(), "demo/720p.mp4")
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			if o.Size() != int64(len(data)) || o.Identity() != wantID {
				t.Fatalf("Size, Identity = %d, %q; want %d, %q", o.Size(), o.Identity(), len(data), wantID)
			}
			checkRandomReads(t, o, data, 50, 4)
		})
	}
}

func TestHTTPOpenRejects(t *testing.T) {
	base := t.TempDir()
	lib := filepath.Join(base, "lib")
	writeFile(t, base, "secret.mp4", []byte("SECRET"))
	writeFile(t, lib, "demo/720p.mp4", []byte("x"))
	var seen []string
	fs := http.FileServer(http.Dir(lib))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.Path) // requests are sequential in this test
		fs.ServeHTTP(w, r)
	}))
	defer srv.Close()
	h := newTestHTTP(t, srv, nil)
	tests := []struct {
		path string
		want error
	}{
		{"../secret.mp4", ErrBadPath},
		{"a/../../secret.mp4", ErrBadPath},
		{"/etc/passwd", ErrBadPath},
		{"a\\b", ErrBadPath},
		{"a\x00b", ErrBadPath},
		{"", ErrBadPath},
		{".", ErrBadPath},
		{"missing.mp4", ErrNotFound},
		{"%2e%2e/secret.mp4", ErrNotFound},
		{"demo/720p.mp4?x=1", ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			o, err := h.Open(context.Background(), tc.path)
			if err == nil {
				o.Close()
				t.Fatalf("Open(%q) succeeded", tc.path)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open(%q) = %v, want %v", tc.path, err, tc.want)
			}
		})
	}
	for _, p := range seen {
		if strings.Contains(p, "..") || strings.Contains(p, "secret") && !strings.HasPrefix(p, "/%2e%2e/") {
			t.Fatalf("server saw request path %q", p)
		}
	}
}

func TestHTTPReadAtRandom(t *testing.T) {
	lib := t.TempDir()
	data := randomBytes(3<<20+17, 5)
	writeFile(t, lib, "a.mp4", data)
	writeFile(t, lib, "empty.mp4", nil)
	srv := fileServer(t, lib)
	tests := []struct {
		name      string
		readAhead int64
		file      string
		want      []byte
	}{
		{"default blocks", 0, "a.mp4", data},
		{"64 KiB blocks", 64 << 10, "a.mp4", data},
		{"odd blocks", 100_003, "a.mp4", data},
		{"empty file", 0, "empty.mp4", nil},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHTTP(t, srv, func(c *HTTPConfig) { c.ReadAhead = tc.readAhead })
			o, err := h.Open(context.Background(), tc.file)
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			if len(tc.want) == 0 {
				n, err := o.ReadAt(make([]byte, 10), 0)
				if n != 0 || err != io.EOF {
					t.Fatalf("ReadAt on empty file = %d, %v", n, err)
				}
				return
			}
			checkRandomReads(t, o, tc.want, 300, uint64(10+i))
		})
	}
}

// TestHTTPCoalescing reads 10 MiB sequentially in 4 KiB reads and checks
// that the block cache turns them into about one request per MiB.
func TestHTTPCoalescing(t *testing.T) {
	lib := t.TempDir()
	data := randomBytes(10<<20, 6)
	writeFile(t, lib, "big.mp4", data)
	h := newTestHTTP(t, fileServer(t, lib), nil)
	o, err := h.Open(context.Background(), "big.mp4")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	buf := make([]byte, 4096)
	for off := int64(0); off < o.Size(); off += int64(len(buf)) {
		n, err := o.ReadAt(buf, off)
		if err != nil && err != io.EOF || !bytes.Equal(buf[:n], data[off:off+int64(n)]) || n != len(buf) {
			t.Fatalf("ReadAt(4096, %d) = %d, %v", off, n, err)
		}
	}
	st := h.Stats()
	t.Logf("2560 reads of 4 KiB: %d requests, %d bytes", st.Requests, st.Bytes)
	if st.Requests > 1+10 { // one HEAD, one request per 1 MiB block
		t.Fatalf("%d requests for a sequential pass over 10 MiB", st.Requests)
	}
	if st.Bytes != 10<<20 {
		t.Fatalf("fetched %d bytes", st.Bytes)
	}
}
