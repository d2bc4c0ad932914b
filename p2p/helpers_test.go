package p2p

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/classmesh/classmesh/p2p/wire"
)

// addrHeader lets a test client claim a client address (Config.ClientAddr
// hook): loopback is one address, locality needs many.
const addrHeader = "X-Test-Client-Addr"

const testSwarm = "vod/demo/v720"

// waitTimeout bounds every wait for a message in tests.
const waitTimeout = 10 * time.Second

type testEnv struct {
	t   *testing.T
	tr  *Tracker
	srv *httptest.Server
	reg *prometheus.Registry
	url string
}

func testAddr(r *http.Request) netip.Addr {
	if a, err := netip.ParseAddr(r.Header.Get(addrHeader)); err == nil {
		return a
	}
	return remoteAddr(r.RemoteAddr)
}

// newEnv starts a tracker (not Started: tests drive tick themselves)
// behind an httptest server on 127.0.0.1.
func newEnv(t *testing.T, cfg Config) *testEnv {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	if cfg.ClientAddr == nil {
		cfg.ClientAddr = testAddr
	}
	tr, err := NewTracker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/p2p/ws", tr)
	mux.HandleFunc("/v/{asset}/{rendition}/hashes.json", func(w http.ResponseWriter, r *http.Request) {
		swarm, _ := wire.ParseSwarm(r.URL.Path)
		tr.ServeHashList(w, r, swarm)
	})
	srv := httptest.NewServer(mux)
	e := &testEnv{t: t, tr: tr, srv: srv, reg: reg, url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/p2p/ws"}
	t.Cleanup(func() {
		if err := tr.Close(); err != nil {
			t.Error(err)
		}
		srv.Close()
	})
	return e
}

type client struct {
	t       *testing.T
	conn    *websocket.Conn
	mu      sync.Mutex
	pending []wire.Message
	id      string
	welcome *wire.WelcomeMsg
}

// dial opens a tracker socket that claims address addr ("" = loopback).
func (e *testEnv) dial(addr string) *client {
	e.t.Helper()
	c, err := e.tryDial(addr)
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	return c
}

func (e *testEnv) tryDial(addr string) (*client, error) {
	h := http.Header{}
	if addr != "" {
		h.Set(addrHeader, addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, e.url, &websocket.DialOptions{Subprotocols: []string{wire.Subprotocol}, HTTPHeader: h})
	if err != nil {
		return nil, err
	}
	c := &client{t: e.t, conn: conn}
	e.t.Cleanup(func() { _ = conn.CloseNow() })
	return c, nil
}

// join dials and joins swarm, returning after the welcome.
func (e *testEnv) join(addr, swarm string, upload bool) *client {
	e.t.Helper()
	c := e.dial(addr)
	c.send(&wire.JoinMsg{Swarm: swarm, Upload: upload})
	c.welcome = c.expect(wire.TypeWelcome).(*wire.WelcomeMsg)
	c.id = c.welcome.Peer
	return c
}

func (c *client) send(m wire.Message) {
	c.t.Helper()
	c.sendRaw(string(wire.MustEncode(m)))
}

func (c *client) sendRaw(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// next reads the next message (pending first).
func (c *client) next(ctx context.Context) (wire.Message, error) {
	c.mu.Lock()
	if len(c.pending) > 0 {
		m := c.pending[0]
		c.pending = c.pending[1:]
		c.mu.Unlock()
		return m, nil
	}
	c.mu.Unlock()
	for {
		_, b, err := c.conn.Read(ctx)
		if err != nil {
			return nil, err
		}
		m, err := wire.DecodeTrackerMessage(b)
		if err != nil {
			return nil, err
		}
		if m != nil {
			return m, nil
		}
	}
}

// expect reads until a message of type typ, keeping others pending.
func (c *client) expect(typ string) wire.Message {
	c.t.Helper()
	m, err := c.waitFor(typ, func(wire.Message) bool { return true })
	if err != nil {
		c.t.Fatalf("waiting for %s: %v", typ, err)
	}
	return m
}

func (c *client) waitFor(typ string, match func(wire.Message) bool) (wire.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	var skipped []wire.Message
	defer func() {
		c.mu.Lock()
		c.pending = append(skipped, c.pending...)
		c.mu.Unlock()
	}()
	for {
		m, err := c.next(ctx)
		if err != nil {
			return nil, err
		}
		if m.Type() == typ && match(m) {
			return m, nil
		}
		skipped = append(skipped, m)
	}
}

// lastNeighbors drains neighbors messages until one satisfying ok arrives.
func (c *client) neighborsUntil(ok func([]string) bool) []string {
	c.t.Helper()
	m, err := c.waitFor(wire.TypeNeighbors, func(m wire.Message) bool { return ok(m.(*wire.NeighborsMsg).Peers) })
	if err != nil {
		c.t.Fatalf("waiting for neighbors: %v", err)
	}
	return m.(*wire.NeighborsMsg).Peers
}

// closed waits for the socket to be closed by the tracker and returns the
// close status.
func (c *client) closed() websocket.StatusCode {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for {
		_, _, err := c.conn.Read(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				c.t.Fatal("socket not closed in time")
			}
			return websocket.CloseStatus(err)
		}
	}
}

// want sends want and returns the peers answer.
func (c *client) want(seq uint64) *wire.PeersMsg {
	c.t.Helper()
	c.send(&wire.WantMsg{Seq: seq})
	m, err := c.waitFor(wire.TypePeers, func(m wire.Message) bool { return m.(*wire.PeersMsg).Seq == seq })
	if err != nil {
		c.t.Fatalf("waiting for peers %d: %v", seq, err)
	}
	return m.(*wire.PeersMsg)
}

// syncSeq is a segment number tests never use otherwise.
const syncSeq = 1 << 40

// sync returns once the tracker handled everything c sent before (the
// socket is processed in order).
func (c *client) sync() {
	c.t.Helper()
	c.want(syncSeq)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// sites is a test Sites: prefix → name, policy.
type sites []struct {
	prefix netip.Prefix
	name   string
	policy wire.Policy
}

func (s sites) Site(a netip.Addr) (string, wire.Policy, bool) {
	for _, x := range s {
		if x.prefix.Contains(a) {
			return x.name, x.policy, true
		}
	}
	return "", "", false
}

func site(prefix, name string, pol wire.Policy) struct {
	prefix netip.Prefix
	name   string
	policy wire.Policy
} {
	return struct {
		prefix netip.Prefix
		name   string
		policy wire.Policy
	}{netip.MustParsePrefix(prefix), name, pol}
}

// metricValue returns the value of one series of the env's registry.
func (e *testEnv) metricValue(name string, labels map[string]string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == k && lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

// hexSum is the wire form of a SHA-256.
func hexSum(sum [32]byte) string { return wire.Digest{Sum: sum}.Hex() }
