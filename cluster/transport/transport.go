package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/classmesh/classmesh/internal/ident"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/quic-go/quic-go"
)

// StreamHandler serves one accepted stream. ctx ends when the connection
// or the transport closes. The transport closes s after the handler
// returns.
type StreamHandler func(ctx context.Context, peer PeerInfo, s *quic.Stream)

// PeerInfo identifies the other end of a stream.
type PeerInfo struct {
	NodeID string   // from the peer's verified certificate (CN)
	Addr   net.Addr // UDP address of the peer
}

// QUIC application error codes used when closing connections.
const (
	codeNoError   quic.ApplicationErrorCode = 0
	codeUntrusted quic.ApplicationErrorCode = 0x101
)

// ErrUnknownALPN is returned by Handle misuse and logged for refused peers.
var ErrUnknownALPN = errors.New("cluster: unknown ALPN")

// Config configures a Transport.
type Config struct {
	// NodeID is this node's ID; it is the CN of its leaf certificate.
	NodeID string
	// CA signs this node's leaf and is the only trust root for peers.
	CA *CA
	// ResetKey, when set, lets a restarted node with the same key reset
	// connections peers still hold to its previous incarnation.
	ResetKey *quic.StatelessResetKey
	// ExpectID, when set, maps a dialled "host:port" to the node ID the
	// peer's certificate must name ("" = any node of the cluster).
	ExpectID func(addr string) string
	// Logger receives logs; nil = discard.
	Logger *slog.Logger
	// ReceiveWindow, when > 0, fixes the QUIC receive window of every
	// stream at this many bytes and of every connection at four times
	// that. 0 = windows that hold a whole segment (4 MiB per stream
	// growing to 16 MiB, 8 MiB per connection growing to 64 MiB). Tests
	// use a small one to make a reader stall.
	ReceiveWindow int
	// ProbeALPNs are the ALPNs Probe offers, preferred first. nil = Probe
	// refuses with ErrInvalidConfig.
	ProbeALPNs []string
	// Registerer receives the transport's metrics (connections, streams,
	// refused handshakes). nil means a private registry: the metrics
	// exist but are not exported.
	Registerer prometheus.Registerer
}

// Transport carries node-to-node streams over QUIC with mutual TLS. One UDP
// socket serves both accepted and dialled connections; dialled connections
// are cached per (peer address, ALPN) and re-dialled when dead.
type Transport struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	leaf    *leafSource
	qcfg    *quic.Config

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	handlers map[string]StreamHandler
	conns    map[connKey]*peerConn
	accepted map[*quic.Conn]struct{} // accepted connections being served
	tr       *quic.Transport
	ln       *quic.Listener
	closed   bool
	active   int           // handler goroutines running
	idle     chan struct{} // closed while active == 0

	refusedMu    sync.Mutex
	refusedAt    map[string]time.Time // reason -> last refusal logged
	refusedQuiet map[string]int       // reason -> refusals not logged since
}

type connKey struct{ addr, alpn string }

// peerConn serialises dialling of one (addr, alpn) so concurrent callers
// share a single connection.
type peerConn struct {
	mu   sync.Mutex
	conn *quic.Conn
}

// New returns a Transport; call Listen to bind it.
func New(cfg Config) (*Transport, error) {
	if cfg.CA == nil || !ident.ValidNode(cfg.NodeID) {
		return nil, fmt.Errorf("%w: transport needs a CA and a valid node ID", ErrInvalidConfig)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("cluster: metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	idle := make(chan struct{})
	close(idle)
	t := &Transport{
		cfg:      cfg,
		log:      cfg.Logger,
		metrics:  m,
		leaf:     &leafSource{ca: cfg.CA, nodeID: cfg.NodeID},
		ctx:      ctx,
		cancel:   cancel,
		handlers: map[string]StreamHandler{},
		conns:    map[connKey]*peerConn{},
		accepted: map[*quic.Conn]struct{}{},
		idle:     idle,

		refusedAt:    map[string]time.Time{},
		refusedQuiet: map[string]int{},
		qcfg: &quic.Config{
			HandshakeIdleTimeout: 5 * time.Second,
			MaxIdleTimeout:       30 * time.Second,
			KeepAlivePeriod:      5 * time.Second,
			MaxIncomingStreams:   4096,
			// Segments are megabytes: start with windows that hold a
			// whole segment instead of growing from quic-go's 512 KiB
			// over several round trips.
			InitialStreamReceiveWindow:     4 << 20,
			MaxStreamReceiveWindow:         16 << 20,
			InitialConnectionReceiveWindow: 8 << 20,
			MaxConnectionReceiveWindow:     64 << 20,
		},
	}
	if w := int64(cfg.ReceiveWindow); w > 0 {
		t.qcfg.InitialStreamReceiveWindow, t.qcfg.MaxStreamReceiveWindow = uint64(w), uint64(w)
		t.qcfg.InitialConnectionReceiveWindow, t.qcfg.MaxConnectionReceiveWindow = uint64(4*w), uint64(4*w)
	}
	if _, err := t.leaf.get(); err != nil {
		return nil, err
	}
	return t, nil
}

// Handle registers h for streams on connections negotiated with alpn.
// Register before peers dial; a later registration serves new connections.
func (t *Transport) Handle(alpn string, h StreamHandler) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.handlers[alpn] = h
}

// Listen binds the UDP socket at addr and starts accepting connections.
func (t *Transport) Listen(addr string) error {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return fmt.Errorf("cluster: quic addr %q: %w", addr, err)
	}
	udp, err := net.ListenUDP("udp", ua)
	if err != nil {
		return fmt.Errorf("cluster: quic listen: %w", err)
	}
	tr := &quic.Transport{Conn: udp, StatelessResetKey: t.cfg.ResetKey}
	ln, err := tr.Listen(&tls.Config{MinVersion: tls.VersionTLS13, GetConfigForClient: t.serverConfig}, t.qcfg)
	if err != nil {
		udp.Close()
		return fmt.Errorf("cluster: quic listen: %w", err)
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		ln.Close()
		tr.Close()
		udp.Close()
		return ErrClosed
	}
	t.tr, t.ln = tr, ln
	t.mu.Unlock()
	t.wg.Add(1)
	go t.acceptLoop(ln)
	return nil
}

// NodeID returns the node ID this transport's certificate names.
func (t *Transport) NodeID() string { return t.cfg.NodeID }

// Logger returns the transport's logger, for layers built on it.
func (t *Transport) Logger() *slog.Logger { return t.log }

// Addr returns the bound UDP address, or nil before Listen.
func (t *Transport) Addr() net.Addr {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ln == nil {
		return nil
	}
	return t.ln.Addr()
}

// serverConfig builds the TLS config for one incoming handshake, so that
// refusals can be logged with the peer's address.
func (t *Transport) serverConfig(hello *tls.ClientHelloInfo) (*tls.Config, error) {
	remote := "unknown"
	if hello.Conn != nil {
		remote = hello.Conn.RemoteAddr().String()
	}
	t.mu.Lock()
	var protos []string
	for _, p := range hello.SupportedProtos {
		if _, ok := t.handlers[p]; ok {
			protos = append(protos, p)
		}
	}
	t.mu.Unlock()
	if len(protos) == 0 {
		err := fmt.Errorf("%w %q", ErrUnknownALPN, hello.SupportedProtos)
		t.refused(remote, "alpn", err)
		return nil, err
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		NextProtos: protos[:1],
		// Request, not require: with RequireAnyClientCert crypto/tls
		// refuses a client without a certificate before
		// VerifyPeerCertificate runs, so the refusal would be neither
		// logged nor counted. VerifyPeer refuses an empty chain.
		ClientAuth:     tls.RequestClientCert,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return t.leaf.get() },
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			_, err := t.cfg.CA.VerifyPeer(raw, x509.ExtKeyUsageClientAuth, "")
			if err != nil {
				t.refused(remote, refusalReason(err), err)
			}
			return err
		},
	}, nil
}

// refusedLogEvery rate-limits the refusal warning per reason.
const refusedLogEvery = 10 * time.Second

// refused logs (at most once per refusedLogEvery and reason, with the
// number of refusals not logged since) and counts a refused handshake.
func (t *Transport) refused(remote, reason string, err error) {
	t.metrics.refuse(reason)
	msg := err.Error()
	if strings.Contains(msg, "unknown authority") {
		msg += " (wrong cluster secret?)"
	}
	now := time.Now()
	t.refusedMu.Lock()
	last, ok := t.refusedAt[reason]
	if ok && now.Sub(last) < refusedLogEvery {
		t.refusedQuiet[reason]++
		t.refusedMu.Unlock()
		return
	}
	quiet := t.refusedQuiet[reason]
	t.refusedAt[reason], t.refusedQuiet[reason] = now, 0
	t.refusedMu.Unlock()
	t.log.Warn(fmt.Sprintf("quic: refused %s: %s", remote, msg), "reason", reason, "not_logged_since", quiet)
}

// acceptLoop accepts connections until the listener closes.
func (t *Transport) acceptLoop(ln *quic.Listener) {
	defer t.wg.Done()
	for {
		conn, err := ln.Accept(t.ctx)
		if err != nil {
			return
		}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			conn.CloseWithError(codeNoError, "closing")
			return
		}
		t.wg.Add(1)
		t.mu.Unlock()
		go t.serveConn(conn)
	}
}

// serveConn accepts streams on one connection and runs their handlers.
func (t *Transport) serveConn(conn *quic.Conn) {
	defer t.wg.Done()
	t.metrics.connOpened()
	defer t.metrics.connClosed()
	st := conn.ConnectionState().TLS
	alpn := st.NegotiatedProtocol
	peer := PeerInfo{Addr: conn.RemoteAddr()}
	if len(st.PeerCertificates) > 0 {
		peer.NodeID = st.PeerCertificates[0].Subject.CommonName
	}
	t.mu.Lock()
	t.wg.Add(1) // safe: serveConn itself holds the group open
	t.accepted[conn] = struct{}{}
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.accepted, conn)
		t.mu.Unlock()
	}()
	go func() { // unblock AcceptStream when the transport closes
		defer t.wg.Done()
		select {
		case <-t.ctx.Done():
			conn.CloseWithError(codeNoError, "closing")
		case <-conn.Context().Done():
		}
	}()
	for {
		s, err := conn.AcceptStream(conn.Context())
		if err != nil {
			return
		}
		t.mu.Lock()
		h := t.handlers[alpn]
		t.mu.Unlock()
		if h == nil {
			s.CancelRead(0)
			s.CancelWrite(0)
			continue
		}
		t.metrics.stream(alpn)
		t.begin()
		go t.serveStream(conn.Context(), h, peer, s)
	}
}

// serveStream runs one handler and closes its stream.
func (t *Transport) serveStream(ctx context.Context, h StreamHandler, peer PeerInfo, s *quic.Stream) {
	defer t.end()
	defer func() {
		s.Close()
		s.CancelRead(0)
	}()
	h(ctx, peer, s)
}

// begin and end count running handlers for WaitIdle.
func (t *Transport) begin() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.wg.Add(1)
	if t.active == 0 {
		t.idle = make(chan struct{})
	}
	t.active++
}

func (t *Transport) end() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.active--
	if t.active == 0 {
		close(t.idle)
	}
	t.wg.Done()
}

// Active returns the number of incoming streams being served.
func (t *Transport) Active() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.active
}

// WaitIdle blocks until no incoming stream is being served or ctx ends.
func (t *Transport) WaitIdle(ctx context.Context) error {
	for {
		t.mu.Lock()
		n, ch := t.active, t.idle
		t.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("cluster: %d streams still active: %w", n, ctx.Err())
		}
	}
}

// Close closes every connection and the socket and waits for handlers.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	ln, tr := t.ln, t.tr
	conns := make([]*quic.Conn, 0, len(t.conns)+len(t.accepted))
	for _, pc := range t.conns {
		if c := pc.current(); c != nil {
			conns = append(conns, c)
		}
	}
	// Accepted connections are closed here too, before the socket: a
	// close left to their goroutines could lose the race with tr.Close,
	// which drops connections without telling the peer, and a peer
	// without the stateless-reset key would wait for its idle timeout.
	for c := range t.accepted {
		conns = append(conns, c)
	}
	t.mu.Unlock()
	t.cancel()
	for _, c := range conns {
		c.CloseWithError(codeNoError, "closing")
	}
	if ln != nil {
		ln.Close()
	}
	if tr != nil {
		tr.Close()
		tr.Conn.Close()
	}
	t.wg.Wait()
	return nil
}

// current returns the cached connection without waiting for a dial.
func (p *peerConn) current() *quic.Conn {
	if !p.mu.TryLock() {
		return nil
	}
	defer p.mu.Unlock()
	return p.conn
}
