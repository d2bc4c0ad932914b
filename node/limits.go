package node

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/classmesh/classmesh/internal/clientaddr"
)

// Connection limits of the HTTP front door, against clients that hold
// connections without using them (issue 11, finding 5).
//
// Invariants:
//   - Every accepted TCP connection is counted once, against the node and
//     against its address (an IPv4 address, or the /64 of an IPv6 one),
//     until it is closed. A connection over its address's cap is closed
//     right after accept, before net/http sees it; when the node is full,
//     the heaviest address gives up its oldest connection instead (admit).
//   - Time a client makes the node wait is bounded by a credit of at most
//     Grace: every Read of a request body and every Write to the connection
//     may block for the credit left; bytes that move earn MinRate-worth of
//     credit back (n/MinRate seconds each), capped at Grace. A client that
//     moves at least MinRate never runs out; one that stalls is cut after
//     Grace at most. Only time spent blocked counts, so a blocking playlist
//     request that waits in the handler, or a keep-alive connection between
//     requests, spends nothing.
//   - Writes are cut into pieces of at most MinRate*Grace/4 bytes so that a
//     single 2 MB write cannot earn a long deadline for itself.
//   - A deadline set by someone else on the connection (net/http, a
//     WebSocket library) is kept when it is earlier than the credit's.

// Reasons a connection is cut, labels of classmesh_http_conns_cut_total.
const (
	cutSlowBody   = "slow_body"   // a request body arrived below the minimum rate
	cutSlowReader = "slow_reader" // the client did not take the response at the minimum rate
	cutPerAddr    = "per_addr"    // too many connections from one address
	cutMaxConns   = "max_conns"   // too many connections in all
	cutEvicted    = "evicted"     // the node was full: the heaviest address gave one up
)

// Defaults of the HTTP limits (Config.HTTP*).
const (
	DefaultHTTPReadHeaderTimeout = 10 * time.Second
	DefaultHTTPIdleTimeout       = time.Minute
	DefaultHTTPMinRate           = 8 << 10 // bytes/s: 64 kbit/s
	DefaultHTTPRateGrace         = 10 * time.Second
	// DefaultHTTPMaxHeaderBytes bounds request headers (net/http's default
	// is 1 MB): cookies and tokens fit many times over.
	DefaultHTTPMaxHeaderBytes = 64 << 10
)

// connLimits enforces the caps and the rate rule; it is shared by the
// listener, its connections and the body middleware.
type connLimits struct {
	maxConns   int // <= 0: no cap
	maxPerAddr int // <= 0: no cap
	minRate    float64
	grace      time.Duration
	piece      int
	log        *slog.Logger

	mu      sync.Mutex
	total   int
	perAddr map[netip.Prefix]map[*limitConn]struct{}

	cut     *prometheus.CounterVec
	open    prometheus.Gauge
	lastLog [5]atomic.Int64 // unix ns of the last log line per reason
}

// limitsConfig is the part of Config the limits need, defaults applied.
type limitsConfig struct {
	MaxConns, MaxPerAddr int
	MinRate              int64
	Grace                time.Duration
}

func newConnLimits(cfg limitsConfig, reg prometheus.Registerer, log *slog.Logger) *connLimits {
	if reg == nil {
		reg = prometheus.NewRegistry() // nil means a private registry
	}
	l := &connLimits{
		maxConns:   cfg.MaxConns,
		maxPerAddr: cfg.MaxPerAddr,
		minRate:    float64(cfg.MinRate),
		grace:      cfg.Grace,
		log:        log,
		perAddr:    make(map[netip.Prefix]map[*limitConn]struct{}),
		cut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_http_conns_cut_total",
			Help: "HTTP connections closed by the node's limits, by reason (slow_body, slow_reader, per_addr, max_conns, evicted).",
		}, []string{"reason"}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "classmesh_http_open_conns",
			Help: "Open HTTP (TCP) connections.",
		}),
	}
	for _, r := range []string{cutSlowBody, cutSlowReader, cutPerAddr, cutMaxConns, cutEvicted} {
		l.cut.WithLabelValues(r)
	}
	if l.minRate > 0 {
		l.piece = min(max(int(l.minRate*l.grace.Seconds()/4), 4<<10), 256<<10)
	}
	reg.MustRegister(l.cut, l.open)
	return l
}

// admit counts c, a new connection, or returns why it is refused. When the
// node is full, the address with the most connections gives up its oldest
// one, provided it has at least two more than c's address: a few addresses
// holding every connection cannot lock everyone else out, and a newcomer
// never evicts a peer of its own weight.
func (l *connLimits) admit(c *limitConn) string {
	l.mu.Lock()
	key := c.key
	if l.maxPerAddr > 0 && len(l.perAddr[key]) >= l.maxPerAddr {
		l.mu.Unlock()
		return cutPerAddr
	}
	var victim *limitConn
	if l.maxConns > 0 && l.total >= l.maxConns {
		victim = l.victimLocked(len(l.perAddr[key]))
		if victim == nil {
			l.mu.Unlock()
			return cutMaxConns
		}
		l.releaseLocked(victim)
	}
	l.total++
	if l.perAddr[key] == nil {
		l.perAddr[key] = make(map[*limitConn]struct{})
	}
	l.perAddr[key][c] = struct{}{}
	l.open.Inc()
	l.mu.Unlock()
	if victim != nil {
		victim.Close()
		l.cutOne(cutEvicted, victim.RemoteAddr().String())
	}
	return ""
}

// victimLocked is the oldest connection of the heaviest address, if that
// address has at least mine+2 connections.
func (l *connLimits) victimLocked(mine int) *limitConn {
	var heavy map[*limitConn]struct{}
	for _, conns := range l.perAddr {
		if len(conns) > len(heavy) {
			heavy = conns
		}
	}
	if len(heavy) < mine+2 {
		return nil
	}
	var oldest *limitConn
	for c := range heavy {
		if oldest == nil || c.accepted.Before(oldest.accepted) {
			oldest = c
		}
	}
	return oldest
}

// release uncounts c once.
func (l *connLimits) release(c *limitConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.releaseLocked(c)
}

func (l *connLimits) releaseLocked(c *limitConn) {
	conns := l.perAddr[c.key]
	if _, ok := conns[c]; !ok {
		return
	}
	delete(conns, c)
	if len(conns) == 0 {
		delete(l.perAddr, c.key)
	}
	l.total--
	l.open.Dec()
}

// cutOne counts a cut connection and logs it, at most once a second per
// reason (a flood must not flood the log too).
func (l *connLimits) cutOne(reason, remote string) {
	l.cut.WithLabelValues(reason).Inc()
	i := map[string]int{cutSlowBody: 0, cutSlowReader: 1, cutPerAddr: 2, cutMaxConns: 3, cutEvicted: 4}[reason]
	now := time.Now().UnixNano()
	last := l.lastLog[i].Load()
	if now-last < int64(time.Second) || !l.lastLog[i].CompareAndSwap(last, now) {
		return
	}
	l.log.Warn("node: http connection cut", "reason", reason, "remote", remote,
		"min_rate", int64(l.minRate), "grace", l.grace, "max_conns", l.maxConns, "max_per_addr", l.maxPerAddr,
		"note", "logged at most once a second per reason; see classmesh_http_conns_cut_total")
}

// listener applies the caps at accept.
type limitListener struct {
	net.Listener
	l *connLimits
}

func (ln limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc := &limitConn{Conn: c, l: ln.l, key: clientaddr.KeyOf(c.RemoteAddr()), accepted: time.Now(), credit: ln.l.grace}
		if reason := ln.l.admit(lc); reason != "" {
			c.Close()
			ln.l.cutOne(reason, c.RemoteAddr().String())
			continue
		}
		return lc, nil
	}
}

// limitConn is one admitted connection. Write and ReadFrom run on one
// goroutine at a time (net/http's writer); deadlines from others arrive
// through SetDeadline and SetWriteDeadline.
type limitConn struct {
	net.Conn
	l        *connLimits
	key      netip.Prefix
	accepted time.Time
	credit   time.Duration
	ext      atomic.Int64 // external write deadline, unix ns; 0: none
}

func (c *limitConn) Close() error {
	c.l.release(c)
	return c.Conn.Close()
}

// CloseWrite keeps net/http's half-close before closing (the client reads
// the last response instead of a reset).
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *limitConn) SetDeadline(t time.Time) error {
	c.setExt(t)
	return c.Conn.SetDeadline(t)
}

func (c *limitConn) SetWriteDeadline(t time.Time) error {
	c.setExt(t)
	return c.Conn.SetWriteDeadline(t)
}

func (c *limitConn) setExt(t time.Time) {
	if t.IsZero() {
		c.ext.Store(0)
	} else {
		c.ext.Store(t.UnixNano())
	}
}

// arm sets the write deadline for a piece of n bytes and returns whether
// the deadline is the credit's (not an earlier external one).
func (c *limitConn) arm(n int, now time.Time) bool {
	c.credit = min(c.credit+time.Duration(float64(n)/c.l.minRate*float64(time.Second)), c.l.grace)
	d := now.Add(c.credit)
	ours := true
	if ext := c.ext.Load(); ext != 0 && ext < d.UnixNano() {
		d, ours = time.Unix(0, ext), false
	}
	c.Conn.SetWriteDeadline(d)
	return ours
}

// spent takes the time blocked from the credit and tells a cut apart.
func (c *limitConn) spent(start time.Time, ours bool, err error) {
	c.credit -= time.Since(start)
	if ours && isTimeout(err) {
		c.l.cutOne(cutSlowReader, c.RemoteAddr().String())
	}
}

func (c *limitConn) Write(p []byte) (int, error) {
	if c.l.minRate <= 0 {
		return c.Conn.Write(p)
	}
	written := 0
	for len(p) > 0 {
		k := min(len(p), c.l.piece)
		start := time.Now()
		ours := c.arm(k, start)
		n, err := c.Conn.Write(p[:k])
		c.spent(start, ours, err)
		written += n
		if err != nil {
			return written, err
		}
		p = p[k:]
	}
	return written, nil
}

// ReadFrom keeps sendfile for disk hits, in pieces with their own
// deadlines.
func (c *limitConn) ReadFrom(r io.Reader) (int64, error) {
	rf, ok := c.Conn.(io.ReaderFrom)
	if !ok {
		return io.Copy(struct{ io.Writer }{c}, r)
	}
	if c.l.minRate <= 0 {
		return rf.ReadFrom(r)
	}
	var total int64
	for {
		start := time.Now()
		ours := c.arm(c.l.piece, start)
		n, err := rf.ReadFrom(&io.LimitedReader{R: r, N: int64(c.l.piece)})
		c.spent(start, ours, err)
		total += n
		if err != nil || n < int64(c.l.piece) {
			return total, err
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return err != nil && (errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()))
}

// limitRequests applies the rate rule per request: to request bodies on
// every protocol (HTTP/1.1, HTTP/2 and HTTP/3 streams), and to responses
// on HTTP/2 and HTTP/3, whose streams can stall on flow control while the
// connection itself moves (HTTP/1.1 responses are covered by limitConn),
// through the ResponseController's read and write deadlines.
func (l *connLimits) limitRequests(next http.Handler) http.Handler {
	if l.minRate <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor >= 2 {
			w = &rateWriter{ResponseWriter: w, rc: http.NewResponseController(w), l: l, credit: l.grace, remote: r.RemoteAddr}
		}
		var rb *rateBody
		if r.Body != nil && r.Body != http.NoBody {
			rc := http.NewResponseController(w)
			// HTTP/2 and HTTP/3 fire a stream's deadline even when nobody
			// reads, so deadlines are armed only around each Read; on
			// HTTP/1.1 this first one also bounds a body nobody reads.
			var err error
			if r.ProtoMajor == 1 {
				err = rc.SetReadDeadline(time.Now().Add(l.grace))
			} else {
				err = rc.SetReadDeadline(time.Time{})
			}
			if err == nil {
				rb = &rateBody{ReadCloser: r.Body, rc: rc, l: l, credit: l.grace, remote: r.RemoteAddr}
				r.Body = rb
			}
		}
		next.ServeHTTP(w, r)
		if rb != nil && !rb.done && r.ProtoMajor == 1 {
			// net/http reads what the handler left of a small body to
			// keep the connection; do it here, under the same rule, so
			// that a body trickled to a handler that never reads it is
			// cut and counted too.
			_, _ = io.CopyN(io.Discard, rb, maxDrain)
		}
	})
}

// maxDrain is how much of an unread HTTP/1.1 body is read after the
// handler (net/http's own limit is 256 KiB; beyond it the connection is
// closed).
const maxDrain = 256 << 10

// rateBody is a request body read under the rate rule.
type rateBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	l      *connLimits
	credit time.Duration
	remote string
	done   bool
}

func (b *rateBody) Read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	start := time.Now()
	_ = b.rc.SetReadDeadline(start.Add(b.credit))
	n, err := b.ReadCloser.Read(p)
	b.credit = min(b.credit-time.Since(start)+time.Duration(float64(n)/b.l.minRate*float64(time.Second)), b.l.grace)
	switch {
	case isTimeout(err):
		b.l.cutOne(cutSlowBody, b.remote)
		return n, err
	case err == io.EOF:
		b.done = true
	}
	// Time the handler spends between reads is not the client's: disarm
	// (this also keeps HTTP/1.1's background read after EOF free of it).
	_ = b.rc.SetReadDeadline(time.Time{})
	return n, err
}

// rateWriter is an HTTP/2 or HTTP/3 response written under the rate rule.
type rateWriter struct {
	http.ResponseWriter
	rc     *http.ResponseController
	l      *connLimits
	credit time.Duration
	remote string

	unsupported bool // the writer has no write deadlines
}

func (w *rateWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		k := min(len(p), w.l.piece)
		start := time.Now()
		w.credit = min(w.credit+time.Duration(float64(k)/w.l.minRate*float64(time.Second)), w.l.grace)
		deadline := start.Add(w.credit)
		if w.unsupported || w.rc.SetWriteDeadline(deadline) != nil {
			w.unsupported = true // write as is
			n, err := w.ResponseWriter.Write(p)
			return written + n, err
		}
		n, err := w.ResponseWriter.Write(p[:k])
		w.credit -= time.Since(start)
		written += n
		if err == nil {
			// A stream's write deadline fires even between writes (a
			// segment still filling): disarm it.
			err = w.rc.SetWriteDeadline(time.Time{})
		}
		if err != nil {
			// HTTP/2 reports a stream reset, not a timeout.
			if !time.Now().Before(deadline) {
				w.l.cutOne(cutSlowReader, w.remote)
			}
			return written, err
		}
		p = p[k:]
	}
	return written, nil
}

// Flush may wait on flow control too: the same credit bounds it.
func (w *rateWriter) Flush() {
	if w.unsupported {
		_ = w.rc.Flush()
		return
	}
	start := time.Now()
	_ = w.rc.SetWriteDeadline(start.Add(max(w.credit, 0)))
	err := w.rc.Flush()
	w.credit -= time.Since(start)
	_ = w.rc.SetWriteDeadline(time.Time{})
	if err != nil && w.credit <= 0 {
		w.l.cutOne(cutSlowReader, w.remote)
	}
}

func (w *rateWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
