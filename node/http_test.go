package node

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/classmesh/classmesh/control/api"
)

// metricValue reads one sample from /metrics on the admin listener;
// series is the exact exposition name with labels, e.g.
// `classmesh_cache_fills_total{source="origin"}`.
func metricValue(t testing.TB, n *Node, series string) float64 {
	t.Helper()
	if n.AdminURL() == "" {
		t.Fatal("metricValue: the node has no admin listener")
	}
	r := get(t, n.AdminURL()+"/metrics")
	for _, line := range strings.Split(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s: %v", line, err)
			}
			return f
		}
	}
	return 0
}

func TestHTTPSemantics(t *testing.T) {
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	a, _ := n.Library().Asset("demo")
	rend := a.Renditions[0]
	seg := n.URL() + "/v/demo/" + rend.ID + "/seg-1.m4s"
	playlist := n.URL() + "/v/demo/" + rend.ID + "/media.m3u8"

	full := get(t, seg)
	if full.code != 200 || int64(len(full.body)) != rend.Segments[1].Size {
		t.Fatalf("segment: %d, %d bytes, want %d", full.code, len(full.body), rend.Segments[1].Size)
	}
	hit := get(t, seg)
	if !bytes.Equal(hit.body, full.body) {
		t.Fatal("cache hit differs from the packaged segment")
	}
	tests := []struct {
		name   string
		url    string
		hdr    []string
		code   int
		header map[string]string
	}{
		{"segment cache headers", seg, nil, 200, map[string]string{
			"Cache-Control": "public, max-age=31536000, immutable", "Content-Type": "video/mp4",
			"Access-Control-Allow-Origin": "*"}},
		{"range", seg, []string{"Range", "bytes=10-19"}, 206, map[string]string{
			"Content-Range": "bytes 10-19/" + strconv.Itoa(len(full.body)), "Content-Length": "10"}},
		// Finding 7: "bytes=-0" was a 206 with an invalid Content-Range;
		// 60 000 parts cost 1.6 s of CPU and 7.6 MB of output.
		{"range empty suffix", seg, []string{"Range", "bytes=-0"}, 416, map[string]string{
			"Content-Range": "bytes */" + strconv.Itoa(len(full.body))}},
		{"range past the end", seg, []string{"Range", "bytes=99999999-"}, 416, map[string]string{
			"Content-Range": "bytes */" + strconv.Itoa(len(full.body))}},
		{"range overlapping merged", seg, []string{"Range", "bytes=10-19,0-14"}, 206, map[string]string{
			"Content-Range": "bytes 0-19/" + strconv.Itoa(len(full.body)), "Content-Length": "20"}},
		// (60 000 parts no longer fit in the 64 KiB of request headers.)
		{"range 15000 parts", seg, []string{"Range", "bytes=" + strings.Repeat("0-0,", 14999) + "0-0"}, 200, map[string]string{
			"Content-Range": "", "Content-Length": strconv.Itoa(len(full.body))}},
		{"range 17 parts", seg, []string{"Range", "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,16-16,18-18,20-20,22-22,24-24,26-26,28-28,30-30,32-32"}, 200, map[string]string{
			"Content-Range": "", "Content-Length": strconv.Itoa(len(full.body))}},
		{"init empty suffix", n.URL() + "/v/demo/" + rend.ID + "/init.mp4", []string{"Range", "bytes=-0"}, 416, nil},
		{"if-none-match", seg, []string{"If-None-Match", hit.header.Get("ETag")}, 304, nil},
		{"init", n.URL() + "/v/demo/" + rend.ID + "/init.mp4", nil, 200, map[string]string{
			"Cache-Control": "public, max-age=31536000, immutable"}},
		{"playlist", playlist, nil, 200, map[string]string{
			"Content-Type": "application/vnd.apple.mpegurl", "Cache-Control": "public, max-age=10"}},
		{"playlist gzip", playlist, []string{"Accept-Encoding", "gzip"}, 200, map[string]string{"Content-Encoding": "gzip"}},
		{"playlist zstd", playlist, []string{"Accept-Encoding", "zstd, gzip"}, 200, map[string]string{"Content-Encoding": "zstd"}},
		{"master", n.URL() + "/v/demo/master.m3u8", nil, 200, map[string]string{"Content-Type": "application/vnd.apple.mpegurl"}},
		{"healthz", n.URL() + "/healthz", nil, 200, nil},
		{"readyz", n.URL() + "/readyz", nil, 200, nil},
		{"api", n.URL() + "/api/v1/assets/demo", nil, 200, map[string]string{"Content-Type": "application/json"}},
		{"unknown api", n.URL() + "/api/v1/nope", nil, 404, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, tc.url, tc.hdr...)
			if r.code != tc.code {
				t.Fatalf("status %d, want %d: %s", r.code, tc.code, r.body)
			}
			for k, v := range tc.header {
				if got := r.header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if tc.name == "range" && !bytes.Equal(r.body, full.body[10:20]) {
				t.Error("range body differs")
			}
		})
	}
	t.Run("compressed playlists decode to the same text", func(t *testing.T) {
		plain := get(t, playlist).body
		gz := get(t, playlist, "Accept-Encoding", "gzip").body
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			t.Fatal(err)
		}
		unz, _ := io.ReadAll(zr)
		zd, _ := zstd.NewReader(nil)
		defer zd.Close()
		unzst, err := zd.DecodeAll(get(t, playlist, "Accept-Encoding", "zstd").body, nil)
		if err != nil || !bytes.Equal(unz, plain) || !bytes.Equal(unzst, plain) {
			t.Fatalf("compressed playlists differ (zstd err %v)", err)
		}
	})
	t.Run("cors preflight", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, seg, nil)
		req.Header.Set("Origin", "https://lms.example.edu")
		req.Header.Set("Access-Control-Request-Method", "GET")
		req.Header.Set("Access-Control-Request-Headers", "range")
		resp, err := noGzipClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Range") {
			t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
		}
	})
	if v := metricValue(t, n, `classmesh_http_requests_total{code="200",route="GET /v/{asset}/{rendition}/{file}"}`); v < 2 {
		t.Errorf("request metric = %v, want >= 2", v)
	}
}

func TestBadPathsNeverLeaveTheLibrary(t *testing.T) {
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	paths := []struct {
		path string
		want []int
	}{
		{"/v/../../etc/passwd", []int{400}},
		{"/v/%2e%2e/%2e%2e/etc/passwd", []int{400}},
		{"/v/demo/..%2f..%2fetc/passwd", []int{400}},
		{"/v/demo/%2e%2e/master.m3u8", []int{400}},
		{"/v/demo%00/master.m3u8", []int{400}},
		{"/v/demo/..%5c..%5cetc/seg-1.m4s", []int{400}},
		{"/v//etc/passwd/master.m3u8", []int{400}},
		{"/v/nope/master.m3u8", []int{404}},
		{"/v/demo/nope/media.m3u8", []int{404}},
		{"/v/demo/" + "x" + "/seg-1.m4s", []int{404}},
		{"/v/.hidden/master.m3u8", []int{400}},
		{"/v/demo/720p/seg-999999.m4s", []int{404}},
		{"/v/demo/720p/seg-99999999999999999999.m4s", []int{400}},
		{"/v/demo/720p/seg--1.m4s", []int{400}},
		{"/v/demo/720p/seg-01.m4s", []int{400}},
		{"/v/demo/720p/seg-1.m4s.bak", []int{404}},
		{"/v/demo/720p/passwd", []int{404}},
		{"/api/v1/assets/..%2f..", []int{400}},
	}
	secret, _ := os.ReadFile("/etc/passwd")
	for _, p := range paths {
		t.Run(p.path, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, n.URL()+p.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := noGzipClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ok := false
			for _, c := range p.want {
				ok = ok || resp.StatusCode == c
			}
			if !ok {
				t.Errorf("status %d, want %v: %s", resp.StatusCode, p.want, body)
			}
			if len(secret) > 0 && bytes.Contains(body, secret[:min(len(secret), 32)]) {
				t.Fatal("served bytes from outside the library")
			}
		})
	}
}

func TestBrokenAssetsFailAloneWithAReason(t *testing.T) {
	media := t.TempDir()
	src := filepath.Join(demoDir(t), "demo")
	for _, f := range []string{"asset.json"} {
		copyFile(t, filepath.Join(src, f), filepath.Join(media, "demo", f))
	}
	entries, _ := os.ReadDir(src)
	var first string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".mp4") {
			copyFile(t, filepath.Join(src, e.Name()), filepath.Join(media, "demo", e.Name()))
			if first == "" {
				first = filepath.Join(src, e.Name())
			}
		}
	}
	whole, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	// A truncated file (moov at the front, cut in the middle of it) and a file of garbage.
	if err := os.WriteFile(filepath.Join(media, "truncated.mp4"), whole[:2000], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(media, "garbage.mp4"), bytes.Repeat([]byte("not a movie "), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	n := mustNewNode(t, Config{MediaDir: media})
	for _, id := range []string{"truncated", "garbage"} {
		a, ok := n.Library().Asset(id)
		if !ok || a.Status != "failed" || a.Reason == "" {
			t.Fatalf("%s: ok=%v asset=%+v, want failed with a reason", id, ok, a)
		}
		r := get(t, n.URL()+"/v/"+id+"/master.m3u8")
		if r.code != 422 || !strings.Contains(string(r.body), a.Reason) {
			t.Errorf("%s master: %d %q, want 422 with the reason %q", id, r.code, r.body, a.Reason)
		}
		api := get(t, n.URL()+"/api/v1/assets/"+id)
		if !strings.Contains(string(api.body), `"status": "failed"`) || !strings.Contains(string(api.body), `"reason"`) {
			t.Errorf("%s api: %s", id, api.body)
		}
	}
	if r := get(t, n.URL()+"/v/demo/master.m3u8"); r.code != 200 {
		t.Fatalf("demo broke next to bad assets: %d %s", r.code, r.body)
	}
}

// TestAPIErrorBody: every /api/v1 error, the node's own endpoints' and the
// catalog's, is the one error body with a code (internal/httpx).
func TestAPIErrorBody(t *testing.T) {
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"bad asset id", "GET", "/api/v1/assets/b@d", "", 400, "bad_request"},
		{"unknown asset", "GET", "/api/v1/assets/nope", "", 404, "not_found"},
		{"unknown endpoint", "GET", "/api/v1/nope", "", 404, "not_found"},
		{"outside /api/v1", "GET", "/api/v2/assets", "", 404, "not_found"},
		{"sign without a token", "POST", "/api/v1/playback-tokens", `{"asset":"demo"}`, 401, "unauthorized"},
		{"operator endpoint without a token", "GET", "/api/v1/cluster/members", "", 401, "unauthorized"},
		{"catalog write without a token", "POST", "/api/v1/courses", `{"id":"c","title":"C"}`, 401, "unauthorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, n.URL()+tc.path, "", tc.body)
			var body api.ErrorBody
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatalf("%d %q: not JSON: %v", r.code, r.body, err)
			}
			if r.code != tc.status || body.Code != tc.code || body.Error == "" ||
				r.header.Get("Content-Type") != "application/json" || r.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("%d %s (%s), want %d with code %q", r.code, r.body, r.header.Get("Content-Type"), tc.status, tc.code)
			}
		})
	}
}
