package cache

import (
	"context"
	"fmt"
	"sync"
)

// maxLookups bounds how often Get re-checks the tiers when a key is stored
// between its tier lookups and its fill registration.
const maxLookups = 3

// Cache is a two-tier (memory, disk) cache of immutable objects with
// single-flight fills. It is safe for concurrent use.
type Cache struct {
	cfg  Config
	mem  *memTier  // nil when the memory tier is off
	disk *diskTier // nil without Dir
	m    *metrics

	ctx    context.Context // cancelled by Close; parent of no request
	cancel context.CancelFunc
	wg     sync.WaitGroup // fill goroutines

	mu      sync.Mutex
	flights map[string]*flight
	closed  bool
}

// Stats is a snapshot of the tiers' contents.
type Stats struct {
	MemoryBytes   int64
	MemoryObjects int
	DiskBytes     int64
	DiskObjects   int
	Fills         int // fills in progress
}

// New opens a cache. With a Dir it opens (or creates) the disk tier there,
// rebuilding its state from Dir/index.db.
func New(cfg Config) (*Cache, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	c := &Cache{cfg: cfg, m: m, flights: make(map[string]*flight)}
	if cfg.MemoryBytes > 0 {
		c.mem = newMemTier(cfg.MemoryBytes)
	}
	if cfg.Dir != "" {
		d, evicted, reset, err := openDisk(cfg.Dir, cfg.DiskBytes, cfg.Logger, cfg.Now)
		if err != nil {
			return nil, err
		}
		if reset {
			c.m.indexResets.Inc()
		}
		c.disk = d
		c.m.evictions.WithLabelValues(TierDisk).Add(float64(evicted))
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.updateGauges()
	return c, nil
}

// Close cancels in-flight fills, waits for them and closes the disk index.
// Entries already handed out stay readable until released.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	if c.disk != nil {
		return c.disk.close()
	}
	return nil
}

// GetOption adjusts one Get call.
type GetOption func(*getOptions)

type getOptions struct {
	source string
}

// WithFillSource sets the source label counted in
// classmesh_cache_fills_total if this Get starts a fill.
func WithFillSource(source string) GetOption {
	return func(o *getOptions) { o.source = source }
}

// Get returns the object for key from the memory or disk tier, or else
// starts (or joins) the single fill for key. size is the expected body size
// or -1. The fill runs detached from ctx, bounded by Config.FillTimeout and
// cancelled by Close; ctx only bounds this call's wait for the first byte.
// If the fill fails before writing any byte, the error wraps ErrFillFailed
// and the fill's error. A nil fill turns a miss into ErrNotCached. The
// caller must Release the entry.
func (c *Cache) Get(ctx context.Context, key string, size int64, fill FillFunc, opts ...GetOption) (*Entry, error) {
	if size > c.cfg.MaxObjectBytes {
		return nil, fmt.Errorf("%w: %q: %d bytes, limit %d", ErrTooLarge, key, size, c.cfg.MaxObjectBytes)
	}
	for i := 0; ; i++ {
		if e, ok := c.Peek(key); ok {
			return e, nil
		}
		if fill == nil {
			return nil, fmt.Errorf("%w: %q", ErrNotCached, key)
		}
		f, joined, err := c.register(ctx, key, size, fill, opts, i+1 < maxLookups)
		if err != nil {
			return nil, err
		}
		if f == nil {
			continue // stored meanwhile: look again
		}
		if joined {
			if data, sum, ok := f.result(); ok {
				// The fill has finished and is being stored: its buffer is
				// a complete in-memory body.
				c.m.hits.WithLabelValues(TierMemory).Inc()
				return &Entry{tier: TierMemory, size: int64(len(data)), sum: sum, data: data}, nil
			}
			c.m.hits.WithLabelValues(TierFill).Inc()
		}
		if err := f.wait(ctx); err != nil {
			return nil, err
		}
		return &Entry{tier: TierFill, size: f.size, flight: f}, nil
	}
}

// register joins the fill in progress for key or starts one. It returns a
// nil flight if key was stored in a tier since Get looked (and recheck
// allows looking again).
func (c *Cache) register(ctx context.Context, key string, size int64, fill FillFunc, opts []GetOption, recheck bool) (*flight, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, false, ErrClosed
	}
	if f, ok := c.flights[key]; ok {
		return f, true, nil
	}
	if recheck && ((c.mem != nil && c.mem.contains(key)) || (c.disk != nil && c.disk.contains(key))) {
		return nil, false, nil
	}
	o := getOptions{source: c.cfg.FillSource}
	for _, opt := range opts {
		opt(&o)
	}
	f := newFlight(key, size, c.cfg.MaxObjectBytes)
	f.source = o.source
	c.flights[key] = f
	c.m.misses.Inc()
	c.wg.Add(1)
	go c.runFill(context.WithoutCancel(ctx), f, fill)
	return f, false, nil
}

// Peek returns the object for key if a tier holds it, without filling.
// It counts as a hit. The caller must Release the entry.
func (c *Cache) Peek(key string) (*Entry, bool) {
	if c.mem != nil {
		if o, ok := c.mem.get(key); ok {
			c.m.hits.WithLabelValues(TierMemory).Inc()
			c.m.served.WithLabelValues(TierMemory).Add(float64(len(o.data)))
			return &Entry{tier: TierMemory, size: int64(len(o.data)), sum: o.sum, data: o.data}, true
		}
	}
	if c.disk != nil {
		return c.hitDisk(key)
	}
	return nil, false
}

// hitDisk opens key's body file, verifying it on first use, and promotes it
// to the memory tier when it is small and hot.
func (c *Cache) hitDisk(key string) (*Entry, bool) {
	o, freq, ok := c.disk.get(key)
	if !ok {
		return nil, false
	}
	f, err := c.disk.open(o)
	if err != nil {
		c.cfg.Logger.Warn("cache: dropping unreadable disk object", "key", key, "file", o.rec.File, "err", err)
		c.disk.release(o)
		c.disk.discard(o)
		c.updateGauges()
		return nil, false
	}
	c.m.hits.WithLabelValues(TierDisk).Inc()
	c.m.served.WithLabelValues(TierDisk).Add(float64(o.rec.Size))
	e := &Entry{tier: TierDisk, size: o.rec.Size, sum: o.rec.SHA256, file: f, obj: o, disk: c.disk}
	if c.mem != nil && freq >= 2 && o.rec.Size <= c.cfg.PromoteMaxBytes {
		c.promote(key, e)
	}
	return e, true
}

// promote copies a disk entry's body into the memory tier.
func (c *Cache) promote(key string, e *Entry) {
	if c.mem.contains(key) {
		return
	}
	buf := make([]byte, e.size)
	if _, err := e.file.ReadAt(buf, 0); err != nil {
		c.cfg.Logger.Warn("cache: promote", "key", key, "err", err)
		return
	}
	_, evicted := c.mem.add(key, &memObject{data: buf, sum: e.sum})
	c.m.evictions.WithLabelValues(TierMemory).Add(float64(evicted))
	c.updateGauges()
}

// Delete removes key from both tiers. A fill in progress for key still
// serves its waiters but its result is not stored.
func (c *Cache) Delete(key string) {
	c.mu.Lock()
	if f, ok := c.flights[key]; ok {
		f.mu.Lock()
		f.noStore = true
		f.mu.Unlock()
	}
	c.mu.Unlock()
	if c.mem != nil {
		c.mem.remove(key)
	}
	if c.disk != nil {
		c.disk.remove(key)
	}
	c.updateGauges()
}

// Stats returns the current contents of both tiers.
func (c *Cache) Stats() Stats {
	var s Stats
	if c.mem != nil {
		s.MemoryBytes, s.MemoryObjects = c.mem.usage()
	}
	if c.disk != nil {
		s.DiskBytes, s.DiskObjects = c.disk.usage()
	}
	c.mu.Lock()
	s.Fills = len(c.flights)
	c.mu.Unlock()
	return s
}

func (c *Cache) updateGauges() {
	s := c.Stats()
	c.m.bytes.WithLabelValues(TierMemory).Set(float64(s.MemoryBytes))
	c.m.objects.WithLabelValues(TierMemory).Set(float64(s.MemoryObjects))
	c.m.bytes.WithLabelValues(TierDisk).Set(float64(s.DiskBytes))
	c.m.objects.WithLabelValues(TierDisk).Set(float64(s.DiskObjects))
}
