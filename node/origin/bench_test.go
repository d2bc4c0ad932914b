package origin

import (
	"context"
	"io"
	"testing"
)

// BenchmarkHTTPSequentialRead reads a 4 MiB remote file in 4 KiB reads;
// requests/op shows how the block cache coalesces them.
func BenchmarkHTTPSequentialRead(b *testing.B) {
	lib := b.TempDir()
	const size = 4 << 20
	data := randomBytes(size, 12)
	writeFile(b, lib, "a.mp4", data)
	srv := fileServer(b, lib)
	h, err := NewHTTP(HTTPConfig{BaseURL: srv.URL + "/", Client: srv.Client()})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	buf := make([]byte, 4096)
	b.SetBytes(size)
	for b.Loop() {
		o, err := h.Open(context.Background(), "a.mp4")
		if err != nil {
			b.Fatal(err)
		}
		for off := int64(0); off < size; off += int64(len(buf)) {
			if _, err := o.ReadAt(buf, off); err != nil && err != io.EOF {
				b.Fatal(err)
			}
		}
		o.Close()
	}
	b.ReportMetric(float64(h.Stats().Requests)/float64(b.N), "requests/op")
}

// BenchmarkHTTPCachedRead measures ReadAt on a cached block.
func BenchmarkHTTPCachedRead(b *testing.B) {
	lib := b.TempDir()
	writeFile(b, lib, "a.mp4", randomBytes(1<<20, 13))
	srv := fileServer(b, lib)
	h, err := NewHTTP(HTTPConfig{BaseURL: srv.URL + "/", Client: srv.Client()})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	o, err := h.Open(context.Background(), "a.mp4")
	if err != nil {
		b.Fatal(err)
	}
	defer o.Close()
	buf := make([]byte, 4096)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, err := o.ReadAt(buf, 8192); err != nil {
			b.Fatal(err)
		}
	}
}
