package peer

import (
	"context"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/classmesh/classmesh/p2p"
)

// cutProxy forwards TCP to an address; cut closes every connection through
// it, and refuse makes it close new ones at once.
type cutProxy struct {
	ln       net.Listener
	to       string
	mu       sync.Mutex
	conns    []net.Conn
	refusing bool
	accepted int // connections forwarded
	refused  int // connections closed at once
}

func newCutProxy(t *testing.T, to string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	px := &cutProxy{ln: ln, to: to}
	done := make(chan struct{})
	go func() { defer close(done); px.serve() }()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		px.cut()
	})
	return px
}

func (px *cutProxy) serve() {
	for {
		c, err := px.ln.Accept()
		if err != nil {
			return
		}
		px.mu.Lock()
		if px.refusing {
			px.refused++
			px.mu.Unlock()
			_ = c.Close()
			continue
		}
		px.mu.Unlock()
		up, err := net.Dial("tcp", px.to)
		if err != nil {
			_ = c.Close()
			continue
		}
		px.mu.Lock()
		px.accepted++
		px.conns = append(px.conns, c, up)
		px.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
		go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
	}
}

// cut closes the open connections; refuse: and closes new ones too.
func (px *cutProxy) cut(refuse ...bool) {
	px.mu.Lock()
	conns := px.conns
	px.conns = nil
	px.refusing = len(refuse) > 0 && refuse[0]
	px.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

func (px *cutProxy) counts() (accepted, refused int) {
	px.mu.Lock()
	defer px.mu.Unlock()
	return px.accepted, px.refused
}

func (px *cutProxy) wsURL() string { return "ws://" + px.ln.Addr().String() + "/p2p/ws" }

func (p *Peer) isOnline() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.online
}

// TestReconnect: the tracker socket of a peer that holds segments drops;
// the peer rejoins with a new id, replaces its link, announces its segments
// again (the tracker points another peer's want at it) and does not
// reconnect after Close.
func TestReconnect(t *testing.T) {
	e := newEnv(t, p2p.DefaultConfig())
	px := newCutProxy(t, e.srv.Listener.Addr().String())
	a := e.newPeer(t, func(c *Config) { c.TrackerURL = px.wsURL() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for seq := range 3 {
		if _, err := a.Fetch(ctx, Request{Seq: uint64(seq), URL: e.segURL(seq)}); err != nil {
			t.Fatal(err)
		}
	}
	b := e.newPeer(t, nil)
	waitFor(t, 20*time.Second, "a data channel between the peers", linked(a, b))
	old := a.ID()

	px.cut()
	waitFor(t, 20*time.Second, "the peer to rejoin with a new id", func() bool {
		return a.isOnline() && a.ID() != old && a.Stats().TrackerReconnects == 1
	})
	// The old session's link is closed; the tracker's neighbors build a new one.
	waitFor(t, 20*time.Second, "a link to the new id only", func() bool {
		ids := b.Linked()
		return slices.Contains(ids, a.ID()) && !slices.Contains(ids, old)
	})
	waitFor(t, 20*time.Second, "the tracker to name the reconnected peer a holder", func() bool {
		m, ok := b.want(ctx, 1)
		return ok && slices.Contains(m.Peers, a.ID())
	})
	if m, ok := b.want(ctx, 1); ok && slices.Contains(m.Peers, old) {
		t.Fatalf("tracker still names the old id %s", old)
	}

	before, _ := px.counts()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if after, _ := px.counts(); after != before || a.isOnline() {
		t.Fatalf("connections through the proxy %d → %d after Close, online %v", before, after, a.isOnline())
	}
}

// TestCloseDuringBackoff: Close does not wait for the reconnect backoff.
func TestCloseDuringBackoff(t *testing.T) {
	e := newEnv(t, p2p.DefaultConfig())
	px := newCutProxy(t, e.srv.Listener.Addr().String())
	c := DefaultConfig()
	c.TrackerURL, c.MediaURL, c.API, c.ReconnectMax = px.wsURL(), e.mediaURL, e.api, time.Hour
	a, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	a.reconnectMin = time.Hour // the first wait after the drop is half an hour or more
	t.Cleanup(func() { _ = a.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	px.cut(true)
	waitFor(t, 10*time.Second, "the peer to notice the drop", func() bool { return !a.isOnline() })

	closed := make(chan struct{})
	go func() { defer close(closed); _ = a.Close() }()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("Close waited for the reconnect backoff")
	}
	if _, refused := px.counts(); refused != 0 || a.Stats().TrackerReconnects != 0 {
		t.Fatalf("%d reconnect attempts, %d reconnects during an hour's backoff", refused, a.Stats().TrackerReconnects)
	}
}

// TestNoReconnectWhenDisabled: ReconnectMax < 0 keeps the old behaviour.
func TestNoReconnectWhenDisabled(t *testing.T) {
	e := newEnv(t, p2p.DefaultConfig())
	px := newCutProxy(t, e.srv.Listener.Addr().String())
	a := e.newPeer(t, func(c *Config) { c.TrackerURL, c.ReconnectMax = px.wsURL(), -1 })
	px.cut()
	waitFor(t, 10*time.Second, "the peer to notice the drop", func() bool { return !a.isOnline() })
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if acc, _ := px.counts(); acc != 1 || a.Stats().TrackerReconnects != 0 {
		t.Fatalf("%d connections, %d reconnects with reconnect off", acc, a.Stats().TrackerReconnects)
	}
}
