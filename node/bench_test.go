package node

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchHandler measures the node's own work on a hot path (routing,
// metrics, lookup, headers, body), without the network.
func benchHandler(b *testing.B, path string) {
	n := mustNewNode(b, Config{MediaDir: demoDir(b)})
	req := httptest.NewRequest(http.MethodGet, path, nil)
	rec := httptest.NewRecorder()
	n.handler.ServeHTTP(rec, req) // warm the cache
	if rec.Code != 200 {
		b.Fatalf("%s: %d", path, rec.Code)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		n.handler.ServeHTTP(rec, req)
	}
}

func BenchmarkServeMediaPlaylist(b *testing.B) { benchHandler(b, "/v/demo/720p/media.m3u8") }
func BenchmarkServeMaster(b *testing.B)        { benchHandler(b, "/v/demo/master.m3u8") }
func BenchmarkServeSegmentHit(b *testing.B)    { benchHandler(b, "/v/demo/720p/seg-1.m4s") }
