package peer

import (
	"sync"
	"time"
)

// throughput estimates how fast segments arrive from peers (an EWMA of
// completed transfers), so a peer transfer is only started when it can
// finish before its deadline.
type throughput struct {
	mu  sync.Mutex
	bps float64 // bytes per second
}

// newThroughput starts from 80 % of the downlink cap, or 4 MB/s without.
func newThroughput(downlinkBits int64) *throughput {
	if downlinkBits > 0 {
		return &throughput{bps: float64(downlinkBits) / 8 * 0.8}
	}
	return &throughput{bps: 4e6}
}

func (t *throughput) observe(n int, d time.Duration) {
	if n <= 0 || d <= 0 {
		return
	}
	r := float64(n) / d.Seconds()
	t.mu.Lock()
	t.bps = 0.7*t.bps + 0.3*r
	t.mu.Unlock()
}

// estimate is the expected transfer time of n bytes, within [50ms, 20s].
func (t *throughput) estimate(n int64) time.Duration {
	t.mu.Lock()
	bps := t.bps
	t.mu.Unlock()
	d := time.Duration(float64(n) / bps * float64(time.Second))
	return min(max(d, 50*time.Millisecond), 20*time.Second)
}
