package cache

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
)

const benchBodySize = 256 << 10

func BenchmarkGetHitMemory(b *testing.B) {
	c := newTestCache(b, Config{MemoryBytes: 64 << 20})
	benchHits(b, c, TierMemory)
}

func BenchmarkGetHitDisk(b *testing.B) {
	c := newTestCache(b, Config{MemoryBytes: -1, Dir: b.TempDir()})
	benchHits(b, c, TierDisk)
}

// benchHits fills 16 keys, then measures Get + full read + Release on them.
func benchHits(b *testing.B, c *Cache, tier string) {
	const keys = 16
	for i := range keys {
		data := body(i, benchBodySize)
		fill, _ := counting(data)
		if _, _, err := fetch(c, fmt.Sprint("k", i), benchBodySize, fill); err != nil {
			b.Fatal(err)
		}
	}
	settle(c)
	b.SetBytes(benchBodySize)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		e, err := c.Get(context.Background(), fmt.Sprint("k", i%keys), benchBodySize, nil)
		if err != nil {
			b.Fatal(err)
		}
		if e.Tier() != tier {
			b.Fatalf("tier %s, want %s", e.Tier(), tier)
		}
		if _, err := io.Copy(io.Discard, e.ReadSeeker()); err != nil {
			b.Fatal(err)
		}
		e.Release()
		i++
	}
}

// BenchmarkColdFillParallel measures cold misses under concurrency: every
// key is requested by about four goroutines, so fills are shared and
// streamed while they are written.
func BenchmarkColdFillParallel(b *testing.B) {
	c := newTestCache(b, Config{MemoryBytes: 32 << 20})
	data := body(1, 64<<10)
	fill := func(ctx context.Context, w io.Writer) error {
		for off := 0; off < len(data); off += 16 << 10 {
			if _, err := w.Write(data[off : off+16<<10]); err != nil {
				return err
			}
		}
		return nil
	}
	var seq atomic.Int64
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprint("cold", seq.Add(1)/4)
			e, err := c.Get(context.Background(), key, int64(len(data)), fill)
			if err != nil {
				b.Error(err)
				return
			}
			r := e.NewReader(context.Background())
			n, err := io.Copy(io.Discard, r)
			if err != nil || n != int64(len(data)) {
				b.Errorf("read %d bytes: %v", n, err)
			}
			r.Close()
			e.Release()
		}
	})
}
