package peer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/classmesh/classmesh/p2p/wire"
)

// Peer is one viewer's P2P engine. Create it with New, call Start once,
// Fetch segments, and Close it.
type Peer struct {
	cfg    Config
	log    *slog.Logger
	api    *webrtc.API
	cert   webrtc.Certificate
	down   *Bucket // downlink: HTTP and data-channel receive
	up     *Bucket // uplink: data-channel send
	store  *store
	hashes *hashBook
	rate   *throughput // of peer transfers
	st     counters

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	tr     *tracker // nil until Start, and without TrackerURL; replaced on reconnect (under mu)

	reconnectMin time.Duration // first wait after a drop; 0 means reconnectBase (tests change it)

	mu        sync.Mutex
	id        string
	policy    wire.Policy
	ccfg      wire.ClientConfig
	online    bool // tracker socket up
	links     map[string]*link
	bad       map[string]bool
	neighbors []string
	wants     map[uint64]chan *wire.PeersMsg
	flights   map[uint64]*flight
	waiting   map[uint64]time.Time // fetches waiting for a neighbor: deadline
	changed   chan struct{}        // closed when neighbors' holdings or links change
	started   bool
	closed    bool
}

// counters are the Stats, updated atomically.
type counters struct {
	bytesHTTP, bytesPeer, bytesUp        atomic.Int64
	segsHTTP, segsPeer, segsUp           atomic.Int64
	rejHash, rejSize, timeouts, chClosed atomic.Int64
	badPeers, linksOpened, trackerErrors atomic.Int64
	linksOpen, droppedMsgs               atomic.Int64
	tails, reconnects                    atomic.Int64
	causes                               causeCounters
}

// Stats is a snapshot of a Peer's counters.
type Stats struct {
	ID     string
	Policy wire.Policy
	// Segment bytes and segments obtained, by source.
	BytesHTTP, BytesPeer       int64
	SegmentsHTTP, SegmentsPeer int64
	// Served to neighbors.
	BytesUploaded, SegmentsUploaded int64
	// Peer transfers that failed: rejected for a wrong SHA-256 or size
	// (the peer was dropped), too late, or closed mid-transfer.
	RejectedHash, RejectedSize, Timeouts, Closed int64
	// BadPeers counts peers this peer stopped using (own detection or the
	// tracker's drop).
	BadPeers int64
	// LinksOpen is the data channels open now; LinksOpened ever opened.
	LinksOpen, LinksOpened int64
	// TrackerErrors counts error messages from the tracker; DroppedMessages
	// messages not sent because the outbound queue was full.
	TrackerErrors, DroppedMessages int64
	StoreBytes                     int64
	// TrackerReconnects counts new tracker sessions after a dropped socket
	// (each with a new ID).
	TrackerReconnects int64
	// PeerTails counts segments a late peer had partly sent whose rest
	// came over HTTP (a Range request); its bytes count by source.
	PeerTails int64
	// HTTPBytesByCause and HTTPSegmentsByCause break BytesHTTP and
	// SegmentsHTTP down by why HTTP was used (Cause names; zero counts
	// omitted).
	HTTPBytesByCause, HTTPSegmentsByCause map[string]int64
}

// New checks cfg and returns an unstarted Peer.
func New(cfg Config) (*Peer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	api := cfg.API
	if api == nil {
		var err error
		if api, err = NewAPI(APIConfig{}); err != nil {
			return nil, err
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("peer: key: %w", err)
	}
	cert, err := webrtc.GenerateCertificate(key)
	if err != nil {
		return nil, fmt.Errorf("peer: certificate: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Peer{
		cfg: cfg, log: cfg.Logger, api: api, cert: *cert,
		down:    NewBucket(cfg.DownlinkBitsPerSec, cfg.Now),
		up:      NewBucket(cfg.UplinkBitsPerSec, cfg.Now),
		store:   newStore(cfg.StoreBytes),
		hashes:  newHashBook(cfg.Swarm, cfg.MediaURL, cfg.HTTPClient, cfg.Now),
		rate:    newThroughput(cfg.DownlinkBitsPerSec),
		ctx:     ctx,
		cancel:  cancel,
		policy:  wire.PolicyOff,
		links:   make(map[string]*link),
		bad:     make(map[string]bool),
		wants:   make(map[uint64]chan *wire.PeersMsg),
		flights: make(map[uint64]*flight),
		waiting: make(map[uint64]time.Time),
		changed: make(chan struct{}),
	}, nil
}

// Start joins the swarm at the tracker and waits for its welcome. Without
// a TrackerURL it does nothing. ctx bounds the join only.
func (p *Peer) Start(ctx context.Context) error {
	p.mu.Lock()
	if p.started || p.closed {
		p.mu.Unlock()
		return fmt.Errorf("peer: Start called twice or after Close")
	}
	p.started = true
	p.mu.Unlock()
	if p.cfg.TrackerURL == "" {
		return nil
	}
	tr, w, err := dialTracker(ctx, p.cfg)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.tr, p.id, p.policy, p.ccfg, p.online = tr, w.Peer, w.Policy, w.Config, true
	p.mu.Unlock()
	p.log = p.log.With("peer", w.Peer)
	p.wg.Add(1)
	go func() { defer p.wg.Done(); p.trackerLoop(tr) }()
	return nil
}

// Close says bye to the tracker, closes every data channel and waits for
// the Peer's goroutines.
func (p *Peer) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	links := make([]*link, 0, len(p.links))
	for _, l := range p.links {
		links = append(links, l)
	}
	tr := p.tr
	p.mu.Unlock()
	if tr != nil {
		tr.bye(p.ctx)
	}
	p.cancel() // releases handlers waiting on the rate caps before pion closes
	for _, l := range links {
		l.close(wire.ReasonClosed)
	}
	if tr != nil {
		_ = tr.conn.CloseNow()
	}
	p.wg.Wait()
	return nil
}

// ID is the tracker-assigned peer id ("" before Start or without tracker).
func (p *Peer) ID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.id
}

// Linked returns the ids of the neighbors with an open data channel.
func (p *Peer) Linked() []string {
	var ids []string
	for _, l := range p.openLinks(nil) {
		if l.isOpen() {
			ids = append(ids, l.remote)
		}
	}
	return ids
}

// ClientConfig is the tracker's current config (windows, max peers).
func (p *Peer) ClientConfig() wire.ClientConfig {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ccfg
}

// Stats returns a snapshot of the counters.
func (p *Peer) Stats() Stats {
	s := &p.st
	p.mu.Lock()
	id, pol := p.id, p.policy
	p.mu.Unlock()
	byCause, segsByCause := s.causes.snapshot()
	return Stats{
		HTTPBytesByCause: byCause, HTTPSegmentsByCause: segsByCause, PeerTails: s.tails.Load(),
		ID: id, Policy: pol,
		BytesHTTP: s.bytesHTTP.Load(), BytesPeer: s.bytesPeer.Load(),
		SegmentsHTTP: s.segsHTTP.Load(), SegmentsPeer: s.segsPeer.Load(),
		BytesUploaded: s.bytesUp.Load(), SegmentsUploaded: s.segsUp.Load(),
		RejectedHash: s.rejHash.Load(), RejectedSize: s.rejSize.Load(),
		Timeouts: s.timeouts.Load(), Closed: s.chClosed.Load(),
		BadPeers: s.badPeers.Load(), LinksOpen: s.linksOpen.Load(), LinksOpened: s.linksOpened.Load(),
		TrackerErrors: s.trackerErrors.Load(), DroppedMessages: s.droppedMsgs.Load(),
		StoreBytes: p.store.bytes(), TrackerReconnects: s.reconnects.Load(),
	}
}

// notify wakes every Fetch waiting for a neighbor to hold its segment.
func (p *Peer) notify() {
	p.mu.Lock()
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

func (p *Peer) changedCh() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

func (p *Peer) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// uploading reports whether this peer serves segments to neighbors.
func (p *Peer) uploading() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg.Upload && p.policy == wire.PolicyOn && !p.closed
}

// send queues a message for the tracker; it never blocks.
func (p *Peer) send(m wire.Message) {
	p.mu.Lock()
	tr, ok := p.tr, p.online
	p.mu.Unlock()
	if tr == nil || !ok {
		return
	}
	b, err := wire.Encode(m)
	if err != nil {
		p.log.Debug("peer: encode", "type", m.Type(), "err", err)
		return
	}
	urgent := m.Type() == wire.TypeWant || m.Type() == wire.TypeSignal
	if !tr.enqueue(b, urgent) {
		p.st.droppedMsgs.Add(1)
	}
}

// report sends a report message for one segment or failed transfer.
func (p *Peer) report(seq uint64, source, peerID string, n int, ok bool, reason string) {
	p.send(&wire.ReportMsg{Seq: seq, Source: source, Peer: peerID, Bytes: int64(n), OK: ok, Reason: reason})
}

// goTracked runs f in a goroutine the Peer waits for in Close, or inline
// once the Peer is closing.
func (p *Peer) goTracked(f func()) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		f()
		return
	}
	p.wg.Add(1)
	p.mu.Unlock()
	go func() { defer p.wg.Done(); f() }()
}
