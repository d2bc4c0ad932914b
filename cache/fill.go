package cache

import (
	"context"
	"fmt"
	"time"
)

// runFill runs fill for f on its own goroutine, detached from the request
// that started it, then stores a successful result and unregisters f.
func (c *Cache) runFill(parent context.Context, f *flight, fill FillFunc) {
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(parent, c.cfg.FillTimeout)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel)
	defer stop()

	start := time.Now()
	ferr := callFill(context.WithValue(ctx, flightKey{}, f), fill, f)
	// Count before finishing, so that whoever sees the body complete also
	// sees the fill counted.
	f.mu.Lock()
	source := f.source
	f.mu.Unlock()
	c.m.fills.WithLabelValues(source).Inc()
	err := f.finish(ferr)
	c.m.fillTime.Observe(time.Since(start).Seconds())
	if err != nil {
		c.m.fillErrors.Inc()
		c.cfg.Logger.Debug("cache: fill failed", "key", f.key, "err", err)
	} else {
		c.storeResult(f)
	}
	c.mu.Lock()
	if c.flights[f.key] == f {
		delete(c.flights, f.key)
	}
	c.mu.Unlock()
}

type flightKey struct{}

// SetFillSource, called by a FillFunc with the context it was given, sets
// the source label under which classmesh_cache_fills_total counts this
// fill (for example "peer", or "origin" after a fallback). It does nothing
// with any other context. The fill is counted when it ends.
func SetFillSource(ctx context.Context, source string) {
	if f, ok := ctx.Value(flightKey{}).(*flight); ok {
		f.mu.Lock()
		f.source = source
		f.mu.Unlock()
	}
}

// callFill calls fill, turning a panic into an error so that waiters are
// released instead of blocking forever.
func callFill(ctx context.Context, fill FillFunc, f *flight) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errPanic, r)
		}
	}()
	return fill(ctx, f)
}

// storeResult puts a successful fill into the memory and disk tiers.
func (c *Cache) storeResult(f *flight) {
	data, sum, ok := f.result()
	f.mu.Lock()
	noStore := f.noStore
	f.mu.Unlock()
	if !ok || noStore {
		return
	}
	if c.mem != nil {
		_, evicted := c.mem.add(f.key, &memObject{data: data, sum: sum})
		c.m.evictions.WithLabelValues(TierMemory).Add(float64(evicted))
	}
	if c.disk != nil {
		_, evicted, err := c.disk.store(f.key, data, sum)
		c.m.evictions.WithLabelValues(TierDisk).Add(float64(evicted))
		if err != nil {
			c.cfg.Logger.Warn("cache: disk store failed", "key", f.key, "err", err)
		}
	}
	c.updateGauges()
}
