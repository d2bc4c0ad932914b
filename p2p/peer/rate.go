package peer

import (
	"context"
	"sync"
	"time"
)

// Bucket is a token bucket of bytes that emulates a link of a given rate.
// A nil *Bucket is unlimited. Wait takes n tokens at once and may go into
// debt, so a large read is paced by the time its bytes take at the rate;
// callers pass chunks of at most a few tens of KiB.
type Bucket struct {
	rate  float64 // bytes per second
	burst float64
	now   func() time.Time

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// NewBucket returns a bucket of bitsPerSec with a burst of 50 ms of traffic
// (at least 16 KiB), or nil (unlimited) when bitsPerSec <= 0. now nil means
// time.Now.
func NewBucket(bitsPerSec int64, now func() time.Time) *Bucket {
	if bitsPerSec <= 0 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	rate := float64(bitsPerSec) / 8
	return newBucket(rate, max(rate/20, 16<<10), now)
}

// newBucket returns a bucket of rate tokens per second holding at most
// burst tokens, full at start.
func newBucket(rate, burst float64, now func() time.Time) *Bucket {
	return &Bucket{rate: rate, burst: burst, tokens: burst, last: now(), now: now}
}

// reserve takes n tokens and returns how long the caller must wait.
func (b *Bucket) reserve(n int) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.now()
	if el := t.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(b.burst, b.tokens+el*b.rate)
	}
	b.last = t
	b.tokens -= float64(n)
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// Wait blocks until n bytes may pass, or ctx ends (the tokens stay taken).
func (b *Bucket) Wait(ctx context.Context, n int) error {
	if b == nil || n <= 0 {
		return ctx.Err()
	}
	d := b.reserve(n)
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
