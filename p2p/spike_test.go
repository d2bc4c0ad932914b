package p2p

import (
	"fmt"
	"math"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/classmesh/classmesh/p2p/wire"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

func spikeConfig(c *client, spike bool) wire.ClientConfig {
	c.t.Helper()
	m, err := c.waitFor(wire.TypeConfig, func(m wire.Message) bool { return m.(*wire.ConfigMsg).Config.Spike == spike })
	if err != nil {
		c.t.Fatalf("waiting for config spike=%v: %v", spike, err)
	}
	return m.(*wire.ConfigMsg).Config
}

func TestSpikeSwarmSize(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Config{SpikeSwarmSize: 3, SpikeEgressBytesPerSec: -1, SpikeCalm: 30 * time.Second, Now: clk.Now})
	a := e.join("10.0.0.1", testSwarm, true)
	b := e.join("10.0.0.2", testSwarm, true)
	e.tr.tick(clk.advance(time.Second))
	c := e.join("10.0.0.3", testSwarm, true)
	e.tr.tick(clk.advance(time.Second))
	for _, x := range []*client{a, b, c} {
		if cfg := spikeConfig(x, true); cfg.P2PWindowS != DefaultSpikeWindow {
			t.Fatalf("spike window %v", cfg.P2PWindowS)
		}
	}
	if v := e.metricValue("classmesh_p2p_spike", nil); v != 1 {
		t.Fatalf("spike gauge %v", v)
	}
	// A newcomer is welcomed in spike mode.
	d := e.join("10.0.0.4", testSwarm, true)
	if !d.welcome.Config.Spike {
		t.Fatalf("newcomer config %+v", d.welcome.Config)
	}
	// Down to 2 (< 80 % of 3): calm only after SpikeCalm.
	for _, x := range []*client{c, d} {
		x.send(&wire.ByeMsg{})
		x.closed()
	}
	waitPeers(t, e, testSwarm, 2)
	e.tr.tick(clk.advance(time.Second))
	e.tr.tick(clk.advance(29 * time.Second))
	if e.tr.swarm(testSwarm).spike != true {
		t.Fatal("spike ended before SpikeCalm")
	}
	e.tr.tick(clk.advance(2 * time.Second))
	for _, x := range []*client{a, b} {
		if cfg := spikeConfig(x, false); cfg.P2PWindowS != DefaultWindow {
			t.Fatalf("calm window %v", cfg.P2PWindowS)
		}
	}
	if v := e.metricValue("classmesh_p2p_spike", nil); v != 0 {
		t.Fatalf("spike gauge %v", v)
	}
}

func TestSpikeEgress(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Config{SpikeSwarmSize: -1, SpikeEgressBytesPerSec: 1000, SpikeCalm: 5 * time.Second, Now: clk.Now})
	a := e.join("10.0.0.1", testSwarm, true)
	e.tr.Served(testSwarm, netip.MustParseAddr("10.0.0.1"), 20_000) // 2000 B/s over 10 s
	e.tr.tick(clk.advance(time.Second))
	spikeConfig(a, true)
	e.tr.tick(clk.advance(11 * time.Second)) // egress now 0: calm starts
	e.tr.tick(clk.advance(6 * time.Second))
	spikeConfig(a, false)
}

// waitPeers waits (bounded) until the tracker has n peers in swarm.
func waitPeers(t *testing.T, e *testEnv, swarm string, n int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		sw := e.tr.swarm(swarm)
		got := 0
		if sw != nil {
			sw.mu.Lock()
			got = len(sw.peers)
			sw.mu.Unlock()
		}
		if got == n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("swarm %s never reached %d peers", swarm, n)
}

func TestOffloadAccounting(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Config{Now: clk.Now, Sites: sites{site("10.1.0.0/16", "campus", wire.PolicyOn)}})
	c := e.join("10.1.0.5", testSwarm, true)
	e.tr.Served(testSwarm, netip.MustParseAddr("10.1.0.5"), 1000)
	c.send(&wire.ReportMsg{Seq: 1, Source: wire.SourceHTTP, Bytes: 1000, OK: true})
	c.send(&wire.ReportMsg{Seq: 2, Source: wire.SourcePeer, Peer: "0123456789abcdef", Bytes: 3000, OK: true})
	c.sync()
	e.tr.tick(clk.advance(time.Second))
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"classmesh_p2p_bytes_served_http_total", map[string]string{"asset": "demo", "site": "campus"}, 1000},
		{"classmesh_p2p_bytes_played_total", map[string]string{"asset": "demo", "site": "campus", "source": "http"}, 1000},
		{"classmesh_p2p_bytes_played_total", map[string]string{"asset": "demo", "site": "campus", "source": "peer"}, 3000},
		{"classmesh_p2p_offload_ratio", map[string]string{"asset": "demo"}, 0.75},
		{"classmesh_p2p_peers", nil, 1},
		{"classmesh_p2p_swarms", nil, 1},
		{"classmesh_p2p_messages_total", map[string]string{"type": "report"}, 2},
	}
	for _, ck := range checks {
		if v := e.metricValue(ck.name, ck.labels); math.Abs(v-ck.want) > 1e-9 {
			t.Errorf("%s%v = %v, want %v", ck.name, ck.labels, v, ck.want)
		}
	}
}

func TestManyClientsResponsive(t *testing.T) {
	n := 500
	if testing.Short() {
		n = 100
	}
	e := newEnv(t, Config{})
	var g errgroup.Group
	g.SetLimit(32)
	clients := make([]*client, n)
	for i := range n {
		g.Go(func() error {
			addr := netip.AddrFrom4([4]byte{10, 20, byte(i / 200), byte(i%200 + 1)}).String()
			c, err := e.tryDial(addr)
			if err != nil {
				return err
			}
			c.send(&wire.JoinMsg{Swarm: fmt.Sprintf("vod/course%d/v720", i%5), Upload: true})
			if _, err := c.waitFor(wire.TypeWelcome, func(wire.Message) bool { return true }); err != nil {
				return fmt.Errorf("client %d welcome: %w", i, err)
			}
			c.send(&wire.HaveMsg{Ranges: []wire.Range{{0, uint64(i % 10)}}})
			c.send(&wire.WantMsg{Seq: uint64(i%10 + 1)})
			if _, err := c.waitFor(wire.TypePeers, func(wire.Message) bool { return true }); err != nil {
				return fmt.Errorf("client %d peers: %w", i, err)
			}
			clients[i] = c
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if v := e.metricValue("classmesh_p2p_peers", nil); v != float64(n) {
		t.Fatalf("peers gauge %v, want %d", v, n)
	}
	fresh := e.join("10.99.0.1", "vod/course0/v720", true)
	if p := fresh.want(3); !p.Fetch && len(p.Peers) == 0 {
		t.Fatalf("fresh client answer %+v", p)
	}
}

func TestCloseEndsSockets(t *testing.T) {
	e := newEnv(t, Config{})
	c := e.join("10.0.0.1", testSwarm, true)
	if err := e.tr.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := e.tr.Close(); err != nil {
		t.Fatal(err)
	}
	if st := c.closed(); st != websocket.StatusGoingAway {
		t.Fatalf("close status %v", st)
	}
	if err := e.tr.Start(t.Context()); err == nil {
		t.Fatal("Start after Close succeeded")
	}
	if _, err := e.tryDial("10.0.0.2"); err == nil {
		t.Fatal("dial after Close succeeded")
	}
}
