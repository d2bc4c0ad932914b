package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero", Config{}, true},
		{"default", DefaultConfig(), true},
		{"memory off", Config{MemoryBytes: -1}, true},
		{"negative disk", Config{DiskBytes: -1}, false},
		{"negative max object", Config{MaxObjectBytes: -1}, false},
		{"negative timeout", Config{FillTimeout: -time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
			if _, err2 := New(tt.cfg); (err2 == nil) != tt.ok {
				t.Errorf("New() = %v, want ok=%v", err2, tt.ok)
			}
		})
	}
}

func TestHitsPerTier(t *testing.T) {
	tests := []struct {
		name       string
		memory     int64
		disk       bool
		secondTier string
		seekerType string
	}{
		{"memory only", 1 << 20, false, TierMemory, "*bytes.Reader"},
		{"disk only", -1, true, TierDisk, "*os.File"},
		{"both tiers", 1 << 20, true, TierMemory, "*bytes.Reader"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{MemoryBytes: tt.memory}
			if tt.disk {
				cfg.Dir = t.TempDir()
			}
			c := newTestCache(t, cfg)
			data := body(1, 5000)
			fill, calls := counting(data)
			if tier := mustFetch(t, c, "k", data, fill); tier != TierFill {
				t.Errorf("first Get from %s, want fill", tier)
			}
			e, err := c.Get(context.Background(), "k", int64(len(data)), fill)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Release()
			if e.Tier() != tt.secondTier {
				t.Errorf("second Get from %s, want %s", e.Tier(), tt.secondTier)
			}
			if calls.Load() != 1 {
				t.Errorf("fill ran %d times, want 1", calls.Load())
			}
			sum, ok := e.SHA256()
			if !ok || sum != sha256.Sum256(data) || e.Size() != int64(len(data)) {
				t.Errorf("SHA256 ok=%v match=%v size=%d", ok, sum == sha256.Sum256(data), e.Size())
			}
			rs := e.ReadSeeker()
			if got := typeName(rs); got != tt.seekerType {
				t.Errorf("ReadSeeker is %s, want %s", got, tt.seekerType)
			}
			if _, err := rs.Seek(100, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			rest, err := io.ReadAll(rs)
			if err != nil || !bytes.Equal(rest, data[100:]) {
				t.Errorf("ReadSeeker after Seek(100): %d bytes, err %v", len(rest), err)
			}
		})
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *bytes.Reader:
		return "*bytes.Reader"
	case *os.File:
		return "*os.File"
	}
	return "other"
}

// chunkedFill writes chunks, waiting on gate before each chunk after the
// first, and records when it has finished.
type chunkedFill struct {
	chunks [][]byte
	gate   chan struct{}
	err    error // returned after the last chunk
	calls  atomic.Int32
	done   atomic.Bool
}

func (f *chunkedFill) fill(ctx context.Context, w io.Writer) error {
	f.calls.Add(1)
	defer f.done.Store(true)
	for i, c := range f.chunks {
		if i > 0 {
			select {
			case <-f.gate:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if _, err := w.Write(c); err != nil {
			return err
		}
	}
	return f.err
}

func TestConcurrentColdGetsShareOneStreamingFill(t *testing.T) {
	const clients = 200
	c := newTestCache(t, Config{Dir: t.TempDir()})
	data := body(2, 300_000)
	cf := &chunkedFill{chunks: [][]byte{data[:1000], data[1000:150_000], data[150_000:]}, gate: make(chan struct{})}
	var firstChunk, all sync.WaitGroup
	bodies := make([][]byte, clients)
	tiers := make([]string, clients)
	firstChunk.Add(clients)
	all.Add(clients)
	for i := range clients {
		go func() {
			defer all.Done()
			e, err := c.Get(context.Background(), "seg", int64(len(data)), cf.fill)
			if err != nil {
				t.Error(err)
				firstChunk.Done()
				return
			}
			defer e.Release()
			tiers[i] = e.Tier()
			r := e.NewReader(context.Background())
			defer r.Close()
			head := make([]byte, 1000)
			_, err = io.ReadFull(r, head)
			firstChunk.Done()
			if err != nil {
				t.Error(err)
				return
			}
			rest, err := io.ReadAll(r)
			if err != nil {
				t.Error(err)
			}
			bodies[i] = append(head, rest...)
		}()
	}
	firstChunk.Wait()
	if cf.done.Load() {
		t.Fatal("fill finished before the readers got the first chunk")
	}
	close(cf.gate)
	all.Wait()
	if n := cf.calls.Load(); n != 1 {
		t.Fatalf("%d concurrent Gets ran the fill %d times, want 1", clients, n)
	}
	for i := range clients {
		if tiers[i] != TierFill || !bytes.Equal(bodies[i], data) {
			t.Fatalf("client %d: tier %s, %d bytes, equal=%v", i, tiers[i], len(bodies[i]), bytes.Equal(bodies[i], data))
		}
	}
	settle(c) // the readers can finish before the flight is unregistered
	if s := c.Stats(); s.MemoryObjects != 1 || s.DiskObjects != 1 || s.Fills != 0 {
		t.Errorf("stats after fill: %+v", s)
	}
}

var errOrigin = errors.New("origin exploded")

func TestFillFailsMidway(t *testing.T) {
	dir := t.TempDir()
	c := newTestCache(t, Config{Dir: dir})
	data := body(3, 4000)
	cf := &chunkedFill{chunks: [][]byte{data[:1000], data[1000:2000]}, gate: make(chan struct{}), err: errOrigin}
	var wg sync.WaitGroup
	errs := make([]error, 10)
	started := make(chan struct{}, 10)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := c.Get(context.Background(), "k", int64(len(data)), cf.fill)
			started <- struct{}{}
			if err != nil {
				errs[i] = err
				return
			}
			defer e.Release()
			_, errs[i] = io.ReadAll(e.NewReader(context.Background()))
		}()
	}
	for range errs {
		<-started
	}
	close(cf.gate)
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, ErrFillFailed) || !errors.Is(err, errOrigin) {
			t.Errorf("reader %d: err = %v, want ErrFillFailed and errOrigin", i, err)
		}
	}
	settle(c)
	if s := c.Stats(); s.MemoryObjects != 0 || s.DiskObjects != 0 {
		t.Errorf("failed fill was stored: %+v", s)
	}
	if files := bodyFiles(t, dir); len(files) != 0 {
		t.Errorf("failed fill left files: %v", files)
	}
	good, calls := counting(data)
	if tier := mustFetch(t, c, "k", data, good); tier != TierFill || calls.Load() != 1 {
		t.Errorf("retry: tier %s, %d fills", tier, calls.Load())
	}
}

func TestFillErrorBeforeFirstByte(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := newTestCache(t, Config{Registerer: reg})
	release := make(chan struct{})
	var calls atomic.Int32
	fail := func(ctx context.Context, w io.Writer) error {
		calls.Add(1)
		<-release
		return context.DeadlineExceeded
	}
	const waiters = 20
	errs := make(chan error, waiters)
	for range waiters {
		go func() {
			_, err := c.Get(context.Background(), "k", -1, fail)
			errs <- err
		}()
	}
	for metricValue(t, reg, "classmesh_cache_hits_total", "tier=fill") < waiters-1 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	for range waiters {
		err := <-errs
		if !errors.Is(err, ErrFillFailed) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Get error %v, want ErrFillFailed and DeadlineExceeded", err)
		}
	}
	if calls.Load() != 1 {
		t.Errorf("fill ran %d times, want 1", calls.Load())
	}
	if v := metricValue(t, reg, "classmesh_cache_fill_errors_total", ""); v != 1 {
		t.Errorf("fill_errors_total = %v, want 1", v)
	}
}

func TestSizeMismatchFails(t *testing.T) {
	data := body(4, 1000)
	tests := []struct {
		name string
		size int64
	}{
		{"body shorter than size", 1001},
		{"body longer than size", 999},
		{"empty size", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newTestCache(t, Config{Dir: t.TempDir()})
			fill, _ := counting(data)
			_, _, err := fetch(c, "k", tt.size, fill)
			if !errors.Is(err, ErrSizeMismatch) || !errors.Is(err, ErrFillFailed) {
				t.Fatalf("err = %v, want ErrSizeMismatch and ErrFillFailed", err)
			}
			settle(c)
			if s := c.Stats(); s.MemoryObjects+s.DiskObjects != 0 {
				t.Errorf("mismatched body stored: %+v", s)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	c := newTestCache(t, Config{MaxObjectBytes: 100})
	if _, _, err := fetch(c, "k", 101, mustNotFill(t)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("declared size: err = %v, want ErrTooLarge", err)
	}
	fill, _ := counting(body(5, 101))
	if _, _, err := fetch(c, "k", -1, fill); !errors.Is(err, ErrTooLarge) {
		t.Errorf("unknown size: err = %v, want ErrTooLarge", err)
	}
}

func TestFillOutlivesItsRequester(t *testing.T) {
	c := newTestCache(t, Config{})
	data := body(6, 2000)
	cf := &chunkedFill{chunks: [][]byte{data[:10], data[10:]}, gate: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	e, err := c.Get(ctx, "k", int64(len(data)), cf.fill)
	if err != nil {
		t.Fatal(err)
	}
	e.Release()
	cancel()
	close(cf.gate)
	if got := mustFetch(t, c, "k", data, mustNotFill(t)); got != TierFill && got != TierMemory {
		t.Errorf("second Get from %s", got)
	}
	if cf.calls.Load() != 1 {
		t.Errorf("fill ran %d times", cf.calls.Load())
	}
}

func TestCloseCancelsFills(t *testing.T) {
	c, err := New(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	block := func(ctx context.Context, w io.Writer) error {
		close(entered)
		<-ctx.Done()
		return ctx.Err()
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.Get(context.Background(), "k", -1, block)
		errc <- err
	}()
	<-entered
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, context.Canceled) || !errors.Is(err, ErrFillFailed) {
		t.Errorf("Get during Close: %v", err)
	}
	if _, err := c.Get(context.Background(), "k", -1, block); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestFillTimeout(t *testing.T) {
	c := newTestCache(t, Config{FillTimeout: 20 * time.Millisecond})
	wait := func(ctx context.Context, w io.Writer) error {
		<-ctx.Done()
		return ctx.Err()
	}
	if _, _, err := fetch(c, "k", -1, wait); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
}

func TestFillPanicIsAnError(t *testing.T) {
	c := newTestCache(t, Config{})
	boom := func(context.Context, io.Writer) error { panic("boom") }
	if _, _, err := fetch(c, "k", -1, boom); !errors.Is(err, errPanic) || !errors.Is(err, ErrFillFailed) {
		t.Errorf("err = %v", err)
	}
}

func TestDeleteAndPeek(t *testing.T) {
	c := newTestCache(t, Config{Dir: t.TempDir()})
	data := body(7, 100)
	fill, calls := counting(data)
	if _, ok := c.Peek("k"); ok {
		t.Fatal("Peek hit on an empty cache")
	}
	if _, err := c.Get(context.Background(), "k", -1, nil); !errors.Is(err, ErrNotCached) {
		t.Fatalf("Get with nil fill on a miss: %v, want ErrNotCached", err)
	}
	mustFetch(t, c, "k", data, fill)
	e, ok := c.Peek("k")
	if !ok || e.Tier() != TierMemory {
		t.Fatalf("Peek after fill: %v", ok)
	}
	e.Release()
	e.Release() // harmless
	c.Delete("k")
	if s := c.Stats(); s.MemoryObjects+s.DiskObjects != 0 {
		t.Errorf("after Delete: %+v", s)
	}
	if tier := mustFetch(t, c, "k", data, fill); tier != TierFill || calls.Load() != 2 {
		t.Errorf("after Delete: tier %s, %d fills", tier, calls.Load())
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := newTestCache(t, Config{Registerer: reg, Dir: t.TempDir()})
	data := body(8, 100)
	fill, _ := counting(data)
	mustFetch(t, c, "a", data, fill)
	mustFetch(t, c, "a", data, fill)
	if _, _, err := getWithSource(c, "b", data, fill, "peer"); err != nil {
		t.Fatal(err)
	}
	// A fill that starts as a peer fill and falls back to the origin says so.
	fallback := func(ctx context.Context, w io.Writer) error {
		SetFillSource(ctx, "origin")
		_, err := w.Write(data)
		return err
	}
	if _, _, err := getWithSource(c, "c", data, fallback, "peer"); err != nil {
		t.Fatal(err)
	}
	SetFillSource(context.Background(), "ignored") // no fill in this context: no effect
	settle(c)
	checks := []struct {
		name, labels string
		want         float64
	}{
		{"classmesh_cache_fills_total", "source=origin", 2},
		{"classmesh_cache_fills_total", "source=peer", 1},
		{"classmesh_cache_misses_total", "", 3},
		{"classmesh_cache_hits_total", "tier=memory", 1},
		{"classmesh_cache_objects", "tier=memory", 3},
		{"classmesh_cache_objects", "tier=disk", 3},
		{"classmesh_cache_bytes", "tier=disk", 300},
		{"classmesh_cache_served_bytes_total", "tier=memory", 100},
	}
	for _, ch := range checks {
		if got := metricValue(t, reg, ch.name, ch.labels); got != ch.want {
			t.Errorf("%s{%s} = %v, want %v", ch.name, ch.labels, got, ch.want)
		}
	}
	if _, err := New(Config{Registerer: reg}); err == nil {
		t.Error("second cache on the same registry registered its metrics")
	}
}

// getWithSource runs one Get labelled with a fill source and drains it.
func getWithSource(c *Cache, key string, data []byte, fill FillFunc, source string) (string, []byte, error) {
	e, err := c.Get(context.Background(), key, int64(len(data)), fill, WithFillSource(source))
	if err != nil {
		return "", nil, err
	}
	defer e.Release()
	b, err := io.ReadAll(e.NewReader(context.Background()))
	return e.Tier(), b, err
}
