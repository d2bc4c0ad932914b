package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/classmesh/classmesh/p2p/wire"
)

// ErrClosed is returned by Start after Close.
var ErrClosed = errors.New("p2p: tracker closed")

// tickInterval is the period of the housekeeping loop (spike mode,
// offload gauges, idle sockets, limiter and report-ledger cleanup).
const tickInterval = time.Second

// Tracker is the peer-assisted delivery tracker of one edge. Mount
// ServeHTTP at /p2p/ws. It is safe for concurrent use.
type Tracker struct {
	cfg     Config
	log     *slog.Logger
	m       *metrics
	hashes  *hashStore
	acct    *accounting
	limits  *addrLimiter
	reports *reportLedger

	mu     sync.Mutex
	swarms map[string]*swarm
	conns  map[*peer]struct{}

	// goroutine registry: every tracker goroutine (socket readers, writers,
	// the tick loop) is counted in wg unless closed.
	goMu     sync.Mutex
	closed   bool
	draining bool
	started  bool
	wg       sync.WaitGroup
	stop     chan struct{}

	// tick loop state (tick goroutine only).
	nodeSpike     atomic.Bool // read by joins
	nodeCalmSince time.Time
	ticks         int
}

// NewTracker validates cfg, fills defaults and builds a Tracker. Call
// Start to run its housekeeping and Close to end it.
func NewTracker(cfg Config) (*Tracker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	hs, err := newHashStore(cfg.HashSegmentsPerSwarm, cfg.HashSegmentsTotal)
	if err != nil {
		return nil, fmt.Errorf("p2p: zstd: %w", err)
	}
	t := &Tracker{
		cfg: cfg, log: cfg.Logger, m: m, hashes: hs,
		acct:    newAccounting(m, &cfg, cfg.Now()),
		limits:  newAddrLimiter(cfg.MaxConnsPerAddr, cfg.ConnectRate, cfg.ConnectBurst),
		reports: newReportLedger(cfg.ReportRate, cfg.ReportBurst),
		swarms:  make(map[string]*swarm), conns: make(map[*peer]struct{}),
		stop: make(chan struct{}),
	}
	return t, nil
}

// Start runs the housekeeping loop until Close. Sockets are served
// whether or not Start was called; spike mode, offload gauges and idle
// timeouts need it.
func (t *Tracker) Start(ctx context.Context) error {
	t.goMu.Lock()
	defer t.goMu.Unlock()
	if t.closed || t.draining {
		return ErrClosed
	}
	if t.started {
		return errors.New("p2p: tracker already started")
	}
	t.started = true
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		t.loop(ctx)
	}()
	return nil
}

// Close closes every socket with 1001 (going away), stops the loop and
// waits for every goroutine of the tracker (a client that does not answer
// the close handshake costs at most coder/websocket's 5 s handshake
// timeout, in parallel). It is idempotent.
func (t *Tracker) Close() error {
	t.goMu.Lock()
	if t.closed || t.draining {
		t.goMu.Unlock()
		return nil
	}
	t.draining = true // no new sockets; writers may still start
	t.goMu.Unlock()

	t.mu.Lock()
	conns := make([]*peer, 0, len(t.conns))
	for p := range t.conns {
		conns = append(conns, p)
	}
	t.mu.Unlock()
	for _, p := range conns {
		t.m.connFailures.WithLabelValues(failShutdown).Inc()
		p.qmu.Lock()
		p.q = nil
		p.qmu.Unlock()
		p.closeWith(nil, websocket.StatusGoingAway, "shutdown")
	}

	t.goMu.Lock()
	t.closed = true
	close(t.stop)
	t.goMu.Unlock()
	t.wg.Wait()
	t.hashes.close()
	return nil
}

// goroutine runs fn as a tracker goroutine; false when the tracker is
// closed (fn is not run).
func (t *Tracker) goroutine(fn func()) bool {
	t.goMu.Lock()
	defer t.goMu.Unlock()
	if t.closed {
		return false
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		fn()
	}()
	return true
}

// enter counts a socket handler as a tracker goroutine; false when closed.
func (t *Tracker) enter() bool {
	t.goMu.Lock()
	defer t.goMu.Unlock()
	if t.closed || t.draining {
		return false
	}
	t.wg.Add(1)
	return true
}

func (t *Tracker) loop(ctx context.Context) {
	tk := time.NewTicker(tickInterval)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.stop:
			return
		case <-tk.C:
			t.tick(t.cfg.Now())
		}
	}
}

// tick is one round of housekeeping at now.
func (t *Tracker) tick(now time.Time) {
	t.ticks++
	t.acct.tick(now)
	t.evaluateSpike(now)
	if t.ticks%10 == 0 {
		t.sweepIdle(now)
		t.limits.sweep(now)
		t.reports.sweep(now)
	}
}

// sweepIdle closes sockets that sent nothing for IdleTimeout.
func (t *Tracker) sweepIdle(now time.Time) {
	limit := now.Add(-t.cfg.IdleTimeout).UnixNano()
	var idle []*peer
	t.mu.Lock()
	for p := range t.conns {
		if p.lastSeen.Load() < limit {
			idle = append(idle, p)
		}
	}
	t.mu.Unlock()
	for _, p := range idle {
		t.m.connFailures.WithLabelValues(failIdle).Inc()
		p.closeWith(nil, websocket.StatusGoingAway, "idle")
	}
}

// PutHash records the SHA-256 and size of segment seq of swarm, learned
// when the edge packaged or cached it, and pushes it to the swarm's peers
// if it is new.
func (t *Tracker) PutHash(swarm string, seq uint64, sum [32]byte, size int64) {
	if !wire.ValidSwarm(swarm) || seq > wire.MaxSeq || size < 0 {
		return
	}
	if !t.hashes.put(swarm, seq, sum, size) {
		return
	}
	sw := t.swarm(swarm)
	if sw == nil {
		return
	}
	b := wire.MustEncode(&wire.HashMsg{Seq: seq, SHA256: wire.Digest{Sum: sum}.Hex(), Size: size})
	sw.mu.Lock()
	sw.broadcastLocked(b)
	sw.mu.Unlock()
}

// Hash returns the recorded hash of a segment.
func (t *Tracker) Hash(swarm string, seq uint64) (sum [32]byte, size int64, ok bool) {
	e, ok := t.hashes.get(swarm, seq)
	return e.Sum, e.Size, ok
}

// Served counts segment bytes the edge served over HTTP for swarm to
// client (offload accounting and node egress). swarm may be "" for bytes
// that count toward egress only.
func (t *Tracker) Served(swarm string, client netip.Addr, bytes int64) {
	if bytes <= 0 {
		return
	}
	if swarm != "" && !wire.ValidSwarm(swarm) {
		swarm = ""
	}
	t.acct.served(swarm, t.siteOf(client), bytes, t.cfg.Now())
}

// SegmentAvailable tells the tracker that live segment seq of swarm now
// exists: each group's chosen fetchers get a fetch message at once.
func (t *Tracker) SegmentAvailable(swarm string, seq uint64) {
	sw := t.swarm(swarm)
	if sw == nil || seq > wire.MaxSeq {
		return
	}
	now := t.cfg.Now()
	msg := &wire.FetchMsg{Seq: seq}
	if e, ok := t.hashes.get(swarm, seq); ok {
		msg.SHA256, msg.Size = e.Hex(), e.Size
	}
	b := wire.MustEncode(msg)
	sw.mu.Lock()
	defer sw.mu.Unlock()
	for _, g := range sw.groups {
		for _, p := range g.chooseFetchers(seq, now, t.cfg.FetchTimeout) {
			p.send(b)
		}
	}
}

func (t *Tracker) swarm(id string) *swarm {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.swarms[id]
}

// clientConfig is the config object for a swarm in or out of spike mode.
func (t *Tracker) clientConfig(spike bool) wire.ClientConfig {
	c := wire.ClientConfig{MaxPeers: t.cfg.MaxPeers, P2PWindowS: t.cfg.Window, HTTPMarginS: t.cfg.HTTPMarginS, Spike: spike}
	if spike {
		c.P2PWindowS = t.cfg.SpikeWindow
	}
	return c
}
