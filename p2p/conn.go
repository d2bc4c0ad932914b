package p2p

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/classmesh/classmesh/internal/httpx"
	"github.com/classmesh/classmesh/p2p/wire"
)

// hardReadLimit is the frame size above which coder/websocket closes the
// socket with 1009; between MaxMessageBytes and it, the message is
// discarded and answered with error too_large.
const hardReadLimit = 1 << 20

// readBufs holds MaxMessageBytes+1 buffers; one is taken per message, not
// per socket, so idle sockets own no read buffer.
var readBufs = sync.Pool{New: func() any {
	b := make([]byte, wire.MaxMessageBytes+1)
	return &b
}}

// ServeHTTP upgrades r to a tracker WebSocket (mount at /p2p/ws). Before
// the upgrade it enforces the subprotocol (400) and the per-address limits
// (429); after it, it serves the socket until it closes.
func (t *Tracker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !t.enter() {
		httpx.Error(w, http.StatusServiceUnavailable, "p2p: tracker closed")
		return
	}
	defer t.wg.Done()
	if !offersSubprotocol(r) {
		t.m.connFailures.WithLabelValues(failSubprotocol).Inc()
		httpx.Error(w, http.StatusBadRequest, "p2p: WebSocket subprotocol "+wire.Subprotocol+" required")
		return
	}
	addr := t.clientAddr(r)
	now := t.cfg.Now()
	if err := t.limits.acquire(addr, now, t.siteOf(addr) != ""); err != nil {
		reason := failAddrRate
		if errors.Is(err, ErrTooManyConns) {
			reason = failAddrConns
		}
		t.m.connFailures.WithLabelValues(reason).Inc()
		w.Header().Set("Retry-After", "1")
		httpx.Error(w, http.StatusTooManyRequests, err.Error())
		return
	}
	defer t.limits.release(addr)
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:   []string{wire.Subprotocol},
		OriginPatterns: t.cfg.OriginPatterns,
	})
	if err != nil {
		t.m.connFailures.WithLabelValues(failAccept).Inc()
		return
	}
	conn.SetReadLimit(hardReadLimit)
	p := &peer{t: t, id: newPeerID(), conn: conn, loc: t.locate(addr), req: r, openIdx: -1, rep: t.reports.acquire(addr)}
	defer t.reports.release(p.rep)
	p.ids = formatPeerID(p.id)
	p.lastSeen.Store(now.UnixNano())
	t.register(p)
	graceful := t.readLoop(p)
	t.unregister(p, graceful)
}

func offersSubprotocol(r *http.Request) bool {
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, s := range strings.Split(v, ",") {
			if strings.TrimSpace(s) == wire.Subprotocol {
				return true
			}
		}
	}
	return false
}

func (t *Tracker) register(p *peer) {
	t.mu.Lock()
	t.conns[p] = struct{}{}
	t.mu.Unlock()
	t.m.peers.Inc()
}

// unregister removes p from its swarm and the tracker. Unless the tracker
// itself is closing p (graceful), the socket is closed at once.
func (t *Tracker) unregister(p *peer, graceful bool) {
	t.leave(p)
	t.mu.Lock()
	delete(t.conns, p)
	t.mu.Unlock()
	t.m.peers.Dec()
	if !graceful {
		p.qmu.Lock()
		p.closing, p.q = true, nil
		p.qmu.Unlock()
		_ = p.conn.CloseNow()
	}
}

// readLoop reads and handles messages until the socket fails or the
// tracker decides to close it; graceful reports the latter (the writer
// then sends the close frame after the last queued message).
func (t *Tracker) readLoop(p *peer) (graceful bool) {
	for {
		typ, rd, err := p.conn.Reader(context.Background())
		if err != nil {
			if websocket.CloseStatus(err) == websocket.StatusMessageTooBig || errors.Is(err, websocket.ErrMessageTooBig) {
				t.m.connFailures.WithLabelValues(failTooLarge).Inc()
			}
			return false
		}
		now := t.cfg.Now()
		p.lastSeen.Store(now.UnixNano())
		bp := readBufs.Get().(*[]byte)
		n, err := readMessage(rd, *bp)
		if err != nil {
			readBufs.Put(bp)
			if errors.Is(err, websocket.ErrMessageTooBig) {
				t.m.connFailures.WithLabelValues(failTooLarge).Inc()
			}
			return false
		}
		stop := t.handleFrame(p, typ, (*bp)[:n], now)
		readBufs.Put(bp)
		if stop {
			return true
		}
	}
}

// readMessage reads one message into buf; a message longer than
// MaxMessageBytes is drained and reported as n = len(buf).
func readMessage(rd io.Reader, buf []byte) (int, error) {
	n, err := io.ReadFull(rd, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return n, nil
	case err != nil:
		return 0, err
	}
	if _, err := io.Copy(io.Discard, rd); err != nil {
		return 0, err
	}
	return n, nil
}

// handleFrame checks, decodes and dispatches one message; stop ends the
// read loop (the socket is being closed).
func (t *Tracker) handleFrame(p *peer, typ websocket.MessageType, b []byte, now time.Time) (stop bool) {
	if !p.msgs.take(now, t.cfg.MsgRate, t.cfg.MsgBurst) {
		t.m.messages.WithLabelValues("rate_limited").Inc()
		return t.protoError(p, wire.CodeRateLimited, "too many messages", now)
	}
	if typ != websocket.MessageText {
		t.m.messages.WithLabelValues("invalid").Inc()
		return t.protoError(p, wire.CodeBadMessage, "binary frames are not allowed", now)
	}
	if len(b) > wire.MaxMessageBytes {
		t.m.messages.WithLabelValues("invalid").Inc()
		return t.protoError(p, wire.CodeTooLarge, "message above 65536 bytes", now)
	}
	m, err := wire.DecodeClientMessage(b)
	if err != nil {
		t.m.messages.WithLabelValues("invalid").Inc()
		return t.protoError(p, wire.CodeBadMessage, err.Error(), now)
	}
	t.m.messages.WithLabelValues(m.Type()).Inc()
	return t.handle(p, m, now)
}

// protoError answers with an error message and closes the socket with
// 1008 when MaxErrors errors fell within ErrorWindow.
func (t *Tracker) protoError(p *peer, code, msg string, now time.Time) (stop bool) {
	if len(msg) > 200 {
		msg = msg[:200]
	}
	if p.errStart.IsZero() || now.Sub(p.errStart) > t.cfg.ErrorWindow {
		p.errStart, p.errs = now, 0
	}
	p.errs++
	if p.errs >= t.cfg.MaxErrors {
		t.m.connFailures.WithLabelValues(failErrors).Inc()
		p.closeWith(&wire.ErrorMsg{Code: code, Msg: msg}, websocket.StatusPolicyViolation, "too many errors")
		return true
	}
	p.sendMsg(&wire.ErrorMsg{Code: code, Msg: msg})
	return false
}
