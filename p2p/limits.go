package p2p

import (
	"errors"
	"net/netip"
	"sync"
	"time"
)

// Per-address admission errors.
var (
	// ErrTooManyConns: the address has MaxConnsPerAddr sockets open.
	ErrTooManyConns = errors.New("p2p: too many connections from this address")
	// ErrConnectRate: the address opens sockets too fast.
	ErrConnectRate = errors.New("p2p: connecting too fast")
)

// bucket is a token bucket; the zero value is empty. Not safe for
// concurrent use.
type bucket struct {
	tokens float64
	last   time.Time
}

// take refills at rate per second up to burst and takes one token.
func (b *bucket) take(now time.Time, rate float64, burst int) bool {
	if b.last.IsZero() {
		b.tokens = float64(burst)
	} else if d := now.Sub(b.last); d > 0 {
		b.tokens += d.Seconds() * rate
	}
	if b.tokens > float64(burst) {
		b.tokens = float64(burst)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// refill brings the bucket up to now (rate per second, at most burst).
func (b *bucket) refill(now time.Time, rate float64, burst int) {
	if b.last.IsZero() {
		b.tokens = float64(burst)
	} else if d := now.Sub(b.last); d > 0 {
		b.tokens += d.Seconds() * rate
	}
	b.tokens = min(b.tokens, float64(burst))
	if now.After(b.last) {
		b.last = now
	}
}

// give returns one token (up to burst).
func (b *bucket) give(now time.Time, rate float64, burst int) {
	b.refill(now, rate, burst)
	b.tokens = min(b.tokens+1, float64(burst))
}

// has reports whether a token is available at now, without taking it.
func (b *bucket) has(now time.Time, rate float64, burst int) bool {
	b.refill(now, rate, burst)
	return b.tokens >= 1
}

// full reports whether the bucket would be full at now.
func (b *bucket) full(now time.Time, rate float64, burst int) bool {
	return b.last.IsZero() || b.tokens+now.Sub(b.last).Seconds()*rate >= float64(burst)
}

type addrState struct {
	conns   int
	connect bucket
}

// addrLimiter bounds sockets and connects per client address.
type addrLimiter struct {
	maxConns int     // <0 unlimited
	rate     float64 // <0 unlimited
	burst    int

	mu sync.Mutex
	m  map[netip.Addr]*addrState
}

func newAddrLimiter(maxConns int, rate float64, burst int) *addrLimiter {
	return &addrLimiter{maxConns: maxConns, rate: rate, burst: burst, m: make(map[netip.Addr]*addrState)}
}

// acquire admits one socket from a; exempt skips the concurrency bound.
func (l *addrLimiter) acquire(a netip.Addr, now time.Time, exempt bool) error {
	k := limitKey(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.m[k]
	if st == nil {
		st = &addrState{}
		l.m[k] = st
	}
	if !exempt && l.maxConns >= 0 && st.conns >= l.maxConns {
		return ErrTooManyConns
	}
	if l.rate >= 0 && !st.connect.take(now, l.rate, l.burst) {
		return ErrConnectRate
	}
	st.conns++
	return nil
}

// release ends one socket from a.
func (l *addrLimiter) release(a netip.Addr) {
	k := limitKey(a)
	l.mu.Lock()
	if st := l.m[k]; st != nil && st.conns > 0 {
		st.conns--
	}
	l.mu.Unlock()
}

// sweep forgets idle addresses (no sockets, bucket full).
func (l *addrLimiter) sweep(now time.Time) {
	l.mu.Lock()
	for k, st := range l.m {
		if st.conns == 0 && st.connect.full(now, l.rate, l.burst) {
			delete(l.m, k)
		}
	}
	l.mu.Unlock()
}
