package peer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/classmesh/classmesh/p2p/wire"
)

// Tracker socket tuning.
const (
	outQueue       = 512              // queued messages to the tracker
	writeTimeout   = 10 * time.Second // one write
	keepAliveEvery = 45 * time.Second // the tracker closes after 120 s idle
	byeWait        = time.Second
	reconnectBase  = time.Second      // first wait after a drop, doubled per failed try
	reconnectReset = time.Minute      // a session this long starts the backoff afresh
	redialTimeout  = 10 * time.Second // one reconnect attempt
)

// tracker is the WebSocket to the edge's tracker. A writer goroutine paces
// messages under the tracker's per-connection rate limit.
type tracker struct {
	conn  *websocket.Conn
	urg   chan outMsg // want and signal: a player waits on them
	out   chan outMsg // have, lost, report
	pace  *Bucket
	byeOK chan struct{} // closed once bye was written
	done  chan struct{} // closed when the session ends
}

type outMsg struct {
	b   []byte
	bye bool
}

// dialTracker opens the socket, joins the swarm and reads the welcome.
func dialTracker(ctx context.Context, cfg Config) (*tracker, *wire.WelcomeMsg, error) {
	u := cfg.TrackerURL
	if rest, ok := strings.CutPrefix(u, "http"); ok { // http(s):// → ws(s)://
		u = "ws" + rest
	}
	conn, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPClient:   cfg.HTTPClient,
		Subprotocols: []string{wire.Subprotocol},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: dial %s: %w", ErrTracker, u, err)
	}
	conn.SetReadLimit(wire.MaxMessageBytes)
	fail := func(err error) (*tracker, *wire.WelcomeMsg, error) {
		_ = conn.CloseNow()
		return nil, nil, err
	}
	join := wire.MustEncode(&wire.JoinMsg{Swarm: cfg.Swarm, Upload: cfg.Upload})
	if err := conn.Write(ctx, websocket.MessageText, join); err != nil {
		return fail(fmt.Errorf("%w: join: %w", ErrTracker, err))
	}
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			return fail(fmt.Errorf("%w: waiting for welcome: %w", ErrTracker, err))
		}
		m, err := wire.DecodeTrackerMessage(b)
		if err != nil {
			return fail(fmt.Errorf("%w: welcome: %w", ErrTracker, err))
		}
		switch v := m.(type) {
		case *wire.WelcomeMsg:
			if !wire.ValidPeerID(v.Peer) || !v.Policy.Valid() {
				return fail(fmt.Errorf("%w: malformed welcome", ErrTracker))
			}
			t := &tracker{conn: conn, out: make(chan outMsg, outQueue), urg: make(chan outMsg, outQueue),
				pace:  newBucket(DefaultTrackerRate, DefaultTrackerBurst, cfg.Now),
				byeOK: make(chan struct{}), done: make(chan struct{})}
			return t, v, nil
		case *wire.ErrorMsg:
			return fail(fmt.Errorf("%w: %s: %s", ErrTracker, v.Code, v.Msg))
		}
	}
}

// enqueue queues b (urgent: ahead of reports and announcements); false
// when the queue is full (the message is lost).
func (t *tracker) enqueue(b []byte, urgent bool) bool {
	q := t.out
	if urgent {
		q = t.urg
	}
	select {
	case q <- outMsg{b: b}:
		return true
	default:
		return false
	}
}

// bye queues bye and waits (briefly) until it is written.
func (t *tracker) bye(ctx context.Context) {
	select {
	case t.out <- outMsg{b: wire.MustEncode(&wire.ByeMsg{}), bye: true}:
	default:
		return
	}
	tm := time.NewTimer(byeWait)
	defer tm.Stop()
	select {
	case <-t.byeOK:
	case <-tm.C:
	case <-t.done:
	case <-ctx.Done():
	}
}

// writeLoop sends t's queued messages, paced, plus a keep-alive when idle,
// until the session ends.
func (p *Peer) writeLoop(t *tracker) {
	keep := time.NewTicker(keepAliveEvery / 3)
	defer keep.Stop()
	last := time.Now()
	write := func(b []byte) error {
		if err := t.pace.Wait(p.ctx, 1); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(p.ctx, writeTimeout)
		defer cancel()
		last = time.Now()
		return t.conn.Write(ctx, websocket.MessageText, b)
	}
	for {
		var err error
		select { // urgent messages first
		case m := <-t.urg:
			if err = write(m.b); err != nil {
				p.log.Debug("peer: tracker write", "err", err)
				return
			}
			continue
		default:
		}
		select {
		case m := <-t.urg:
			err = write(m.b)
		case m := <-t.out:
			err = write(m.b)
			if m.bye {
				close(t.byeOK)
				return
			}
		case <-keep.C:
			if time.Since(last) >= keepAliveEvery {
				err = write(wire.MustEncode(&wire.HaveMsg{}))
			}
		case <-t.done:
			return
		case <-p.ctx.Done():
			return
		}
		if err != nil {
			p.log.Debug("peer: tracker write", "err", err)
			return
		}
	}
}

// trackerLoop runs tracker sessions: the one Start dialled and, after an
// unexpected drop, new ones (reconnect).
func (p *Peer) trackerLoop(t *tracker) {
	var delay time.Duration
	for {
		began := time.Now()
		final := p.session(t)
		p.trackerDown()
		if p.cfg.ReconnectMax < 0 || p.isClosed() {
			return
		}
		if final {
			p.log.Info("peer: tracker refused this peer; not reconnecting")
			return
		}
		if time.Since(began) >= reconnectReset {
			delay = 0
		}
		if t, delay = p.redial(delay); t == nil {
			return
		}
	}
}

// session runs t's writer and reader until the socket closes. final: the
// tracker refused us for good (error dropped or unknown_swarm).
func (p *Peer) session(t *tracker) (final bool) {
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		p.writeLoop(t)
		_ = t.conn.CloseNow() // a failed write ends the session too
	}()
	final = p.readLoop(t)
	close(t.done)
	_ = t.conn.CloseNow()
	<-wrote
	return final
}

// redial dials the tracker again with capped exponential backoff and
// jitter until it succeeds or the Peer closes (nil). delay is the previous
// wait, 0 for none.
func (p *Peer) redial(delay time.Duration) (*tracker, time.Duration) {
	ceil := p.cfg.ReconnectMax
	base := min(cmp.Or(p.reconnectMin, reconnectBase), ceil)
	for {
		delay = min(max(2*delay, base), ceil)
		wait := delay/2 + rand.N(delay/2+1) // jitter: [delay/2, delay]
		tm := time.NewTimer(wait)
		select {
		case <-tm.C:
		case <-p.ctx.Done():
			tm.Stop()
			return nil, delay
		}
		ctx, cancel := context.WithTimeout(p.ctx, redialTimeout)
		t, w, err := dialTracker(ctx, p.cfg)
		cancel()
		if err != nil {
			p.log.Debug("peer: tracker reconnect", "err", err, "waited", wait)
			continue
		}
		if !p.resume(t, w) {
			_ = t.conn.CloseNow()
			return nil, delay
		}
		return t, delay
	}
}

// resume makes t the tracker session: the new peer id, policy and config
// replace the old; links of the old session are closed (the tracker told
// their peers we left, and our id changed); everything held is announced.
// false when the Peer closed meanwhile.
func (p *Peer) resume(t *tracker, w *wire.WelcomeMsg) bool {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return false
	}
	old := p.id
	p.tr, p.id, p.policy, p.ccfg, p.online = t, w.Peer, w.Policy, w.Config, true
	p.neighbors = nil
	links := make([]*link, 0, len(p.links))
	for _, l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	for _, l := range links {
		l.close(wire.ReasonClosed)
	}
	if rs := p.store.ranges(); len(rs) > 0 {
		p.send(&wire.HaveMsg{Ranges: rs[max(0, len(rs)-wire.MaxRanges):]}) // the tracker keeps the highest
	}
	p.st.reconnects.Add(1)
	p.log.Info("peer: tracker reconnected", "id", w.Peer, "was", old, "closed_links", len(links))
	p.notify()
	return true
}

// readLoop handles t's messages until the socket closes; final: the
// tracker refused us for good.
func (p *Peer) readLoop(t *tracker) (final bool) {
	for {
		typ, b, err := t.conn.Read(p.ctx)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				p.log.Debug("peer: tracker read", "err", err)
			}
			return final
		}
		if typ != websocket.MessageText {
			continue
		}
		m, err := wire.DecodeTrackerMessage(b)
		if err != nil || m == nil {
			continue
		}
		if e, ok := m.(*wire.ErrorMsg); ok && (e.Code == wire.CodeDropped || e.Code == wire.CodeUnknownSwarm) {
			final = true // the tracker closes the socket; joining again would be refused or wrong
		}
		p.handleTracker(m)
	}
}

// trackerDown marks the tracker gone: Fetch uses HTTP until a reconnect;
// open data channels keep serving.
func (p *Peer) trackerDown() {
	p.mu.Lock()
	p.online = false
	for seq, ch := range p.wants {
		close(ch)
		delete(p.wants, seq)
	}
	p.mu.Unlock()
}

func (p *Peer) handleTracker(m wire.Message) {
	switch v := m.(type) {
	case *wire.PeersMsg:
		p.hashes.putHex(v.Seq, v.SHA256, v.Size)
		p.mu.Lock()
		if ch, ok := p.wants[v.Seq]; ok {
			delete(p.wants, v.Seq)
			ch <- v
		}
		p.mu.Unlock()
	case *wire.HashMsg:
		p.hashes.putHex(v.Seq, v.SHA256, v.Size)
	case *wire.FetchMsg:
		p.hashes.putHex(v.Seq, v.SHA256, v.Size)
		p.prefetch(v.Seq)
	case *wire.NeighborsMsg:
		p.setNeighbors(v.Peers)
	case *wire.SignalMsg:
		p.onSignal(v.From, v.Data)
	case *wire.ConfigMsg:
		p.mu.Lock()
		p.ccfg = v.Config
		p.mu.Unlock()
	case *wire.DropMsg:
		p.dropPeer(v.Peer, v.Reason == wire.DropBadSegment)
	case *wire.ErrorMsg:
		p.st.trackerErrors.Add(1)
		p.log.Debug("peer: tracker error", "code", v.Code, "msg", v.Msg)
	}
}

// want asks the tracker whom to fetch seq from. ok is false when the
// tracker does not answer in time or is gone.
func (p *Peer) want(ctx context.Context, seq uint64) (*wire.PeersMsg, bool) {
	ch := make(chan *wire.PeersMsg, 1)
	p.mu.Lock()
	if !p.online {
		p.mu.Unlock()
		return nil, false
	}
	p.wants[seq] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		if p.wants[seq] == ch {
			delete(p.wants, seq)
		}
		p.mu.Unlock()
	}()
	p.send(&wire.WantMsg{Seq: seq})
	tm := time.NewTimer(p.cfg.WantTimeout)
	defer tm.Stop()
	select {
	case m, ok := <-ch:
		return m, ok && m != nil
	case <-tm.C:
	case <-ctx.Done():
	}
	return nil, false
}
