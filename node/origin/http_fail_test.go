package origin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ignoreRange serves data with 200 whatever the request.
func ignoreRange(data []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		if r.Method != http.MethodHead {
			w.Write(data)
		}
	}
}

func TestHTTPIgnoresRange(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		wantErr bool
	}{
		{"small file is fine", 1000, false},
		{"large file fails", 300_000, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := randomBytes(tc.size, 7)
			srv := httptest.NewServer(ignoreRange(data))
			defer srv.Close()
			h := newTestHTTP(t, srv, func(c *HTTPConfig) { c.ReadAhead = 64 << 10 })
			o, err := h.Open(context.Background(), "x.mp4")
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			buf := make([]byte, 100)
			n, err := o.ReadAt(buf, 10)
			if tc.wantErr {
				if !errors.Is(err, ErrUnavailable) || n != 0 {
					t.Fatalf("ReadAt = %d, %v; want ErrUnavailable", n, err)
				}
				return
			}
			if err != nil || !bytes.Equal(buf, data[10:110]) {
				t.Fatalf("ReadAt = %d, %v", n, err)
			}
		})
	}
}

func TestHTTPServerErrors(t *testing.T) {
	data := randomBytes(5000, 8)
	tests := []struct {
		name    string
		handler http.HandlerFunc
		openErr error
		readErr error
	}{
		{"500 on HEAD", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "x", 500) }, ErrUnavailable, nil},
		{"404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, ErrNotFound, nil},
		{"500 on GET", func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodHead {
				w.Header().Set("Content-Length", "5000")
				return
			}
			http.Error(w, "x", 500)
		}, nil, ErrUnavailable},
		{"file shrank", func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodHead {
				w.Header().Set("Content-Length", "9000")
				return
			}
			http.ServeContent(w, r, "x.mp4", time.Time{}, bytes.NewReader(data))
		}, nil, ErrChanged},
		{"short body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5000")
			if r.Method == http.MethodHead {
				return
			}
			w.Header().Set("Content-Range", "bytes 0-4999/5000")
			w.WriteHeader(http.StatusPartialContent)
			w.Write(data[:100])
		}, nil, ErrUnavailable},
		{"wrong range", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5000")
			if r.Method == http.MethodHead {
				return
			}
			w.Header().Set("Content-Range", "bytes 1-5000/5001")
			w.WriteHeader(http.StatusPartialContent)
			w.Write(data)
		}, nil, ErrChanged},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			h := newTestHTTP(t, srv, nil)
			o, err := h.Open(context.Background(), "x.mp4")
			if tc.openErr != nil {
				if !errors.Is(err, tc.openErr) {
					t.Fatalf("Open = %v, want %v", err, tc.openErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			n, err := o.ReadAt(make([]byte, 10), 0)
			if n != 0 || !errors.Is(err, tc.readErr) || !errors.Is(err, ErrUnavailable) {
				t.Fatalf("ReadAt = %d, %v; want %v", n, err, tc.readErr)
			}
		})
	}
}

func TestHTTPTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release) // runs before srv.Close
	h := newTestHTTP(t, srv, func(c *HTTPConfig) { c.Timeout = 50 * time.Millisecond })
	for _, op := range []string{"open", "list"} {
		t.Run(op, func(t *testing.T) {
			var err error
			if op == "open" {
				_, err = h.Open(context.Background(), "x.mp4")
			} else {
				_, err = h.List(context.Background())
			}
			for _, want := range []error{ErrUnavailable, context.DeadlineExceeded, os.ErrDeadlineExceeded} {
				if !errors.Is(err, want) {
					t.Fatalf("%s error %v does not wrap %v", op, err, want)
				}
			}
		})
	}
}

// versioned serves v1 of a file, then v2 once switched.
type versioned struct {
	v1, v2      []byte
	switched    atomic.Bool
	etag        bool // send ETags
	ignoreIfRng bool // drop If-Range before serving
}

func (s *versioned) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	data, tag, mod := s.v1, `"v1"`, time.Unix(1_700_000_000, 0)
	if s.switched.Load() {
		data, tag, mod = s.v2, `"v2"`, mod.Add(time.Hour)
	}
	if s.etag {
		w.Header().Set("ETag", tag)
	}
	if s.ignoreIfRng {
		r.Header.Del("If-Range")
	}
	http.ServeContent(w, r, "x.mp4", mod, bytes.NewReader(data))
}

func TestHTTPIdentityChange(t *testing.T) {
	tests := []struct {
		name string
		srv  *versioned
	}{
		{"ETag, If-Range honoured", &versioned{etag: true}},
		{"ETag, If-Range ignored", &versioned{etag: true, ignoreIfRng: true}},
		{"Last-Modified only", &versioned{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.srv.v1, tc.srv.v2 = randomBytes(200_000, 9), randomBytes(200_000, 10)
			srv := httptest.NewServer(tc.srv)
			defer srv.Close()
			h := newTestHTTP(t, srv, func(c *HTTPConfig) { c.ReadAhead = 64 << 10 })
			o, err := h.Open(context.Background(), "x.mp4")
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			buf := make([]byte, 1000)
			if _, err := o.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, tc.srv.v1[:1000]) {
				t.Fatalf("first read: %v", err)
			}
			tc.srv.switched.Store(true)
			n, err := o.ReadAt(buf, 100_000)
			if n != 0 || !errors.Is(err, ErrChanged) || !errors.Is(err, ErrUnavailable) {
				t.Fatalf("read after change = %d, %v; want ErrChanged", n, err)
			}
		})
	}
}

func TestHTTPConcurrentReads(t *testing.T) {
	lib := t.TempDir()
	data := randomBytes(2<<20+5, 11)
	writeFile(t, lib, "a.mp4", data)
	h := newTestHTTP(t, fileServer(t, lib), func(c *HTTPConfig) {
		c.ReadAhead, c.CacheBytes = 64<<10, 256<<10
	})
	o, err := h.Open(context.Background(), "a.mp4")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			rng := newRand(uint64(100 + g))
			for range 100 {
				off, n := rng.int63n(int64(len(data))), rng.int63n(100<<10)
				buf := make([]byte, n)
				got, err := o.ReadAt(buf, off)
				want := data[off:min(off+n, int64(len(data)))]
				if (err != nil && err != io.EOF) || !bytes.Equal(buf[:got], want) {
					errs <- fmt.Errorf("ReadAt(%d, %d) = %d, %v", n, off, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestHTTPClosedObject(t *testing.T) {
	lib := t.TempDir()
	writeFile(t, lib, "a.mp4", []byte("hello"))
	h := newTestHTTP(t, fileServer(t, lib), nil)
	o, err := h.Open(context.Background(), "a.mp4")
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := o.ReadAt(make([]byte, 1), 0); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("ReadAt after Close = %v", err)
	}
}

func TestHTTPConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  HTTPConfig
		ok   bool
	}{
		{"http", HTTPConfig{BaseURL: "http://example.org/media"}, true},
		{"https with defaults", func() HTTPConfig { c := DefaultConfig(); c.BaseURL = "https://x/"; return c }(), true},
		{"empty", HTTPConfig{}, false},
		{"ftp", HTTPConfig{BaseURL: "ftp://example.org/"}, false},
		{"relative", HTTPConfig{BaseURL: "/media/"}, false},
		{"query", HTTPConfig{BaseURL: "http://x/?a=1"}, false},
		{"negative timeout", HTTPConfig{BaseURL: "http://x/", Timeout: -1}, false},
		{"negative read-ahead", HTTPConfig{BaseURL: "http://x/", ReadAhead: -1}, false},
		{"negative cache", HTTPConfig{BaseURL: "http://x/", CacheBytes: -1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			if _, err := NewHTTP(tc.cfg); (err == nil) != tc.ok {
				t.Fatalf("NewHTTP() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestHTTPString(t *testing.T) {
	h, err := NewHTTP(HTTPConfig{BaseURL: "http://example.org/media"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if got := h.String(); got != "http://example.org/media/" {
		t.Fatalf("String() = %q", got)
	}
}
