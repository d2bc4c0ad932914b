package node

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestConcurrentColdRequestsFillOnce(t *testing.T) {
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	a, _ := n.Library().Asset("demo")
	rend := a.Renditions[len(a.Renditions)-1]
	url := fmt.Sprintf("%s/v/demo/%s/seg-2.m4s", n.URL(), rend.ID)
	const clients = 200
	urls := make([]string, clients)
	for i := range urls {
		urls[i] = url
	}
	before := metricValue(t, n, `classmesh_cache_fills_total{source="origin"}`)
	resps := getAll(t, urls)
	fills := metricValue(t, n, `classmesh_cache_fills_total{source="origin"}`) - before
	if fills != 1 {
		t.Fatalf("%d concurrent requests caused %v fills, want exactly 1", clients, fills)
	}
	for i, r := range resps {
		if r.code != 200 || !bytes.Equal(r.body, resps[0].body) || int64(len(r.body)) != rend.Segments[2].Size {
			t.Fatalf("client %d: status %d, %d bytes", i, r.code, len(r.body))
		}
	}
}

func TestRestartKeepsDiskTier(t *testing.T) {
	data := t.TempDir()
	cfg := Config{MediaDir: demoDir(t), DataDir: data, MemoryCacheBytes: -1}
	n := mustNewNode(t, cfg)
	a, _ := n.Library().Asset("demo")
	url := "/v/demo/" + a.Renditions[0].ID + "/seg-0.m4s"
	first := get(t, n.URL()+url)
	if first.code != 200 {
		t.Fatalf("first: %d", first.code)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n2 := mustNewNode(t, cfg)
	again := get(t, n2.URL()+url)
	if again.code != 200 || !bytes.Equal(again.body, first.body) {
		t.Fatalf("after restart: %d, equal=%v", again.code, bytes.Equal(again.body, first.body))
	}
	if tier := again.header.Get("X-Cache"); tier != "disk" {
		t.Errorf("after restart served from %q, want disk", tier)
	}
	if f := metricValue(t, n2, `classmesh_cache_fills_total{source="origin"}`); f != 0 {
		t.Errorf("restarted node filled %v times, want 0", f)
	}
}

// flakyOrigin serves a directory over HTTP with Range support and can be
// told to cut off response bodies after a few bytes.
type flakyOrigin struct {
	fs      http.Handler
	failing atomic.Bool
}

func (o *flakyOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !o.failing.Load() || r.Method == http.MethodHead {
		o.fs.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	o.fs.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	body := rec.Body.Bytes()
	w.Write(body[:min(len(body), 100)])
	panic(http.ErrAbortHandler) // cut the connection mid-body
}

func TestFailingOriginCachesNothing(t *testing.T) {
	lib := copyDemo(t)
	o := &flakyOrigin{fs: http.FileServer(http.Dir(lib))}
	srv := httptest.NewServer(o)
	defer srv.Close()
	n := mustNewNode(t, Config{OriginURL: srv.URL})
	a, ok := n.Library().Asset("demo")
	if !ok || a.Status != "ready" {
		t.Fatalf("demo over HTTP origin: %+v", a)
	}
	url := fmt.Sprintf("%s/v/demo/%s/seg-3.m4s", n.URL(), a.Renditions[0].ID)
	o.failing.Store(true)
	resp, err := http.Get(url)
	if err == nil {
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 && rerr == nil && int64(len(body)) == a.Renditions[0].Segments[3].Size {
			t.Fatal("a cut-off origin produced a complete 200 response")
		}
		if resp.StatusCode != 200 && resp.StatusCode != 502 && resp.StatusCode != 504 {
			t.Errorf("status %d, want 502/504 or an aborted 200", resp.StatusCode)
		}
	}
	o.failing.Store(false)
	good := get(t, url)
	if good.code != 200 || int64(len(good.body)) != a.Renditions[0].Segments[3].Size {
		t.Fatalf("after the origin recovered: %d, %d bytes", good.code, len(good.body))
	}
	if tier := good.header.Get("X-Cache"); tier != "fill" {
		t.Errorf("after a failed fill the next request came from %q, want a fresh fill", tier)
	}
}
