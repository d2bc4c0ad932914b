package cache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// newTestCache opens a cache closed at the end of the test.
func newTestCache(t testing.TB, cfg Config) *Cache {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// body returns n deterministic bytes that differ per seed.
func body(seed, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed*2654435761 + 1)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// counting returns a fill writing data and a counter of its calls.
func counting(data []byte) (FillFunc, *atomic.Int32) {
	var n atomic.Int32
	return func(ctx context.Context, w io.Writer) error {
		n.Add(1)
		_, err := w.Write(data)
		return err
	}, &n
}

// mustNotFill fails the test if the cache calls it.
func mustNotFill(t *testing.T) FillFunc {
	return func(context.Context, io.Writer) error {
		t.Error("unexpected fill")
		return errors.New("unexpected fill")
	}
}

// fetch runs Get and reads the whole body through NewReader, returning the
// tier and the first error from either.
func fetch(c *Cache, key string, size int64, fill FillFunc) ([]byte, string, error) {
	e, err := c.Get(context.Background(), key, size, fill)
	if err != nil {
		return nil, "", err
	}
	defer e.Release()
	r := e.NewReader(context.Background())
	defer r.Close()
	b, err := io.ReadAll(r)
	return b, e.Tier(), err
}

// settle waits until no fill is running or being stored, so that the next
// Get sees the tiers rather than a finished flight.
func settle(c *Cache) {
	for c.Stats().Fills > 0 {
		time.Sleep(time.Millisecond)
	}
}

// mustFetch is fetch that fails the test on error or a wrong body.
func mustFetch(t *testing.T, c *Cache, key string, want []byte, fill FillFunc) string {
	t.Helper()
	got, tier, err := fetch(c, key, int64(len(want)), fill)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	settle(c)
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) from %s: body differs (%d bytes, want %d)", key, tier, len(got), len(want))
	}
	return tier
}

// bodyFiles returns the sizes of the body files under dir by relative path.
func bodyFiles(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	files := map[string]int64{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == indexFile {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = fi.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// metricValue returns the value of a counter or gauge sample; labels is
// "k=v,k2=v2" or "".
func metricValue(t *testing.T, reg *prometheus.Registry, name, labels string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var parts []string
			for _, lp := range m.GetLabel() {
				parts = append(parts, lp.GetName()+"="+lp.GetValue())
			}
			if strings.Join(parts, ",") != labels {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// logBuffer is a goroutine-safe log sink for asserting on warnings.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }
