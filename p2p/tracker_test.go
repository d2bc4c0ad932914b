package p2p

import (
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/classmesh/classmesh/p2p/wire"
)

func TestJoinWelcome(t *testing.T) {
	e := newEnv(t, Config{MaxPeers: 3})
	a := e.join("10.0.0.1", testSwarm, true)
	w := a.welcome
	if w.V != 1 || !wire.ValidPeerID(w.Peer) || w.Policy != wire.PolicyOn || w.Group != "net:10.0.0.0/24" {
		t.Fatalf("welcome %+v", w)
	}
	if w.Config.MaxPeers != 3 || w.Config.P2PWindowS != DefaultWindow || w.Config.Spike {
		t.Fatalf("config %+v", w.Config)
	}
	if n := a.expect(wire.TypeNeighbors).(*wire.NeighborsMsg); len(n.Peers) != 0 {
		t.Fatalf("first peer has neighbors %v", n.Peers)
	}
	b := e.join("10.0.0.2", testSwarm, true)
	if got := b.neighborsUntil(func(p []string) bool { return len(p) > 0 }); !contains(got, a.id) {
		t.Fatalf("b neighbors %v, want %s", got, a.id)
	}
	if got := a.neighborsUntil(func(p []string) bool { return len(p) > 0 }); !contains(got, b.id) {
		t.Fatalf("a neighbors %v, want %s", got, b.id)
	}
	// b leaves: a gets an empty list.
	b.send(&wire.ByeMsg{})
	if st := b.closed(); st != websocket.StatusNormalClosure {
		t.Fatalf("bye close status %v", st)
	}
	a.neighborsUntil(func(p []string) bool { return len(p) == 0 })
}

func TestPolicies(t *testing.T) {
	e := newEnv(t, Config{Sites: sites{
		site("10.1.0.0/16", "campus", wire.PolicyOn),
		site("10.2.0.0/16", "dorms", wire.PolicyDownloadOnly),
		site("10.3.0.0/16", "exam-hall", wire.PolicyOff),
	}})
	t.Run("off", func(t *testing.T) {
		c := e.join("10.3.0.1", testSwarm, true)
		if c.welcome.Policy != wire.PolicyOff {
			t.Fatalf("policy %q", c.welcome.Policy)
		}
		e.join("10.3.0.2", testSwarm, true)
		if p := c.want(5); p.Fetch || len(p.Peers) != 0 {
			t.Fatalf("off want answer %+v", p)
		}
	})
	t.Run("download-only", func(t *testing.T) {
		up := e.join("10.2.0.1", "vod/x/r", true) // upload:true, but the site says download-only
		if up.welcome.Policy != wire.PolicyDownloadOnly || up.welcome.Group != "site:dorms" {
			t.Fatalf("welcome %+v", up.welcome)
		}
		up.send(&wire.HaveMsg{Ranges: []wire.Range{{0, 10}}})
		down := e.join("10.2.0.2", "vod/x/r", true)
		// Neither is ever a source: no neighbors (no uploaders), never listed.
		if p := down.want(3); len(p.Peers) != 0 || !p.Fetch {
			t.Fatalf("download-only holder listed: %+v", p)
		}
	})
	t.Run("on", func(t *testing.T) {
		a := e.join("10.1.0.1", "vod/y/r", true)
		a.send(&wire.HaveMsg{Ranges: []wire.Range{{0, 10}}})
		a.sync()
		dorm := e.join("10.1.9.9", "vod/y/r", false) // same site, no upload
		if p := dorm.want(3); p.Fetch || !contains(p.Peers, a.id) {
			t.Fatalf("want in site: %+v", p)
		}
	})
}

func TestLocalityGroups(t *testing.T) {
	e := newEnv(t, Config{MaxPeers: 1, Sites: sites{site("172.16.0.0/12", "campus", wire.PolicyOn)}})
	tests := []struct {
		name      string
		holders   []string // peers holding segment 3, joined in order
		addr      string   // the peer that asks
		wantGroup string
		wantFirst int // index into holders of the first peer listed; -1: none (fetch)
	}{
		{"site spans prefixes", []string{"172.16.1.1"}, "172.17.200.5", "site:campus", 0},
		{"same address first", []string{"192.0.2.7", "192.0.2.9"}, "192.0.2.9", "net:192.0.2.0/24", 1},
		{"same /24", []string{"192.0.3.7"}, "192.0.3.200", "net:192.0.3.0/24", 0},
		{"other /24 not paired", []string{"198.51.100.1"}, "198.51.101.1", "net:198.51.101.0/24", -1},
		{"same /48", []string{"2001:db8:1:1::1"}, "2001:db8:1:ff::2", "net:2001:db8:1::/48", 0},
		{"other /48 not paired", []string{"2001:db8:2::1"}, "2001:db8:3::1", "net:2001:db8:3::/48", -1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			swarm := "vod/loc" + string(rune('a'+i)) + "/r"
			var hs []*client
			for _, a := range tt.holders {
				h := e.join(a, swarm, true)
				h.send(&wire.HaveMsg{Ranges: []wire.Range{{0, 5}}})
				h.sync()
				hs = append(hs, h)
			}
			c := e.join(tt.addr, swarm, true)
			if c.welcome.Group != tt.wantGroup {
				t.Fatalf("group %q, want %q", c.welcome.Group, tt.wantGroup)
			}
			p := c.want(3)
			switch {
			case tt.wantFirst < 0 && (!p.Fetch || len(p.Peers) != 0):
				t.Fatalf("answer %+v, want fetch", p)
			case tt.wantFirst >= 0 && (p.Fetch || len(p.Peers) == 0 || p.Peers[0] != hs[tt.wantFirst].id):
				t.Fatalf("answer %+v, want first %s", p, hs[tt.wantFirst].id)
			}
		})
	}
}

func TestCrossGroupRegion(t *testing.T) {
	e := newEnv(t, Config{CrossGroup: true, Region: "eu"})
	a := e.join("198.51.100.1", testSwarm, true)
	b := e.join("203.0.113.1", testSwarm, true)
	if a.welcome.Group != "region:eu" || b.welcome.Group != "region:eu" {
		t.Fatalf("groups %q %q", a.welcome.Group, b.welcome.Group)
	}
	if nb := b.expect(wire.TypeNeighbors).(*wire.NeighborsMsg).Peers; !contains(nb, a.id) {
		t.Fatalf("cross-prefix neighbors %v", nb)
	}
}

func TestFetcherAssignment(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.join("10.0.0.1", testSwarm, true)
	b := e.join("10.0.0.2", testSwarm, true)
	c := e.join("10.0.0.3", testSwarm, true)
	// First asker fetches over HTTP.
	if p := a.want(7); !p.Fetch || len(p.Peers) != 0 {
		t.Fatalf("first asker: %+v", p)
	}
	// Later askers are pointed at the active fetcher (a neighbor).
	if p := b.want(7); p.Fetch || !contains(p.Peers, a.id) {
		t.Fatalf("second asker: %+v", p)
	}
	// a announces it: it is now a holder, listed first.
	a.send(&wire.HaveMsg{Ranges: []wire.Range{{7, 7}}})
	b.send(&wire.HaveMsg{Ranges: []wire.Range{{7, 7}}})
	a.sync()
	b.sync()
	p := c.want(7)
	if p.Fetch || len(p.Peers) < 2 || !contains(p.Peers, a.id) || !contains(p.Peers, b.id) {
		t.Fatalf("third asker: %+v", p)
	}
	// After lost, b is no longer a holder.
	b.send(&wire.LostMsg{Ranges: []wire.Range{{0, 100}}})
	b.sync()
	d := e.join("10.0.0.4", testSwarm, true)
	if p := d.want(7); contains(p.Peers, b.id) || !contains(p.Peers, a.id) {
		t.Fatalf("after lost: %+v", p)
	}
	// A non-uploader asking for an unknown segment fetches but is never listed.
	n := e.join("10.0.0.5", testSwarm, false)
	if p := n.want(99); !p.Fetch {
		t.Fatalf("non-uploader: %+v", p)
	}
	if p := d.want(99); !p.Fetch || contains(p.Peers, n.id) {
		t.Fatalf("after non-uploader fetch: %+v", p)
	}
}

func TestLiveFetchPush(t *testing.T) {
	e := newEnv(t, Config{})
	const live = "live/lecture1/v480"
	byID := map[string]*client{}
	var cs []*client
	for i := range 4 {
		c := e.join(netip.AddrFrom4([4]byte{10, 9, 0, byte(i + 1)}).String(), live, true)
		cs = append(cs, c)
		byID[c.id] = c
	}
	other := e.join("10.8.0.1", live, true) // another group gets its own fetcher
	byID[other.id] = other
	var sum [32]byte
	sum[0] = 0xab
	e.tr.PutHash(live, 42, sum, 1234)
	e.tr.SegmentAvailable(live, 42)

	// Exactly k=1 fetcher per group (groups of fewer than 16 peers).
	sw := e.tr.swarm(live)
	var fetchers []string
	sw.mu.Lock()
	for _, g := range sw.groups {
		st := g.fetch[42]
		if st == nil || len(st.fetchers) != 1 {
			t.Errorf("group %s: fetch state %+v", g.label, st)
			continue
		}
		fetchers = append(fetchers, st.fetchers[0].p.ids)
	}
	sw.mu.Unlock()
	if len(fetchers) != 2 {
		t.Fatalf("fetchers %v", fetchers)
	}
	var inGroup string
	for _, id := range fetchers {
		f := byID[id].expect(wire.TypeFetch).(*wire.FetchMsg)
		if f.Seq != 42 || f.SHA256 != hexSum(sum) || f.Size != 1234 {
			t.Fatalf("fetch message %+v", f)
		}
		if id != other.id {
			inGroup = id
		}
	}
	// A viewer of the group asking now is pointed at the fetcher.
	for _, c := range cs {
		if c.id == inGroup {
			continue
		}
		p := c.want(42)
		if p.Fetch || !contains(p.Peers, inGroup) || p.SHA256 != hexSum(sum) || p.Size != 1234 {
			t.Fatalf("want after fetch push: %+v", p)
		}
		break
	}
}

// TestBadPeerDrop: two viewers at different addresses (DefaultDropQuorum)
// report bad bytes from a peer; it is dropped, and every peer that knew
// it is told.
func TestBadPeerDrop(t *testing.T) {
	e := newEnv(t, Config{})
	bad := e.join("10.0.0.1", testSwarm, true)
	victim := e.join("10.0.0.2", testSwarm, true)
	second := e.join("10.0.0.4", testSwarm, true)
	bystander := e.join("10.0.0.3", testSwarm, true)
	bad.neighborsUntil(func(p []string) bool { return contains(p, victim.id) && contains(p, bystander.id) })
	var sum [32]byte
	e.tr.PutHash(testSwarm, 3, sum, 10)
	bad.send(&wire.HaveMsg{Ranges: []wire.Range{{0, 5}}})
	bad.sync()
	for _, c := range []*client{victim, second} {
		if p := c.want(3); !contains(p.Peers, bad.id) {
			t.Fatalf("want: %+v", p)
		}
	}
	victim.send(&wire.ReportMsg{Seq: 3, Source: wire.SourcePeer, Peer: bad.id, Bytes: 10, Reason: wire.ReasonHash})
	victim.sync()
	second.send(&wire.ReportMsg{Seq: 3, Source: wire.SourcePeer, Peer: bad.id, Bytes: 10, Reason: wire.ReasonSize})
	if m := bad.expect(wire.TypeError).(*wire.ErrorMsg); m.Code != wire.CodeDropped {
		t.Fatalf("bad peer got %+v", m)
	}
	if st := bad.closed(); st != websocket.StatusPolicyViolation {
		t.Fatalf("close status %v", st)
	}
	for _, c := range []*client{victim, second, bystander} {
		if _, err := c.waitFor(wire.TypeDrop, func(m wire.Message) bool { return m.(*wire.DropMsg).Peer == bad.id }); err != nil {
			t.Fatalf("no drop: %v", err)
		}
	}
	if p := bystander.want(3); contains(p.Peers, bad.id) {
		t.Fatalf("dropped peer still listed: %+v", p)
	}
	if v := e.metricValue("classmesh_p2p_hash_failures_total", nil); v != 2 {
		t.Fatalf("hash failures %v", v)
	}
	if v := e.metricValue("classmesh_p2p_connection_failures_total", map[string]string{"reason": failDropped}); v != 1 {
		t.Fatalf("dropped failures %v", v)
	}
}

func TestBadReportNotVerified(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.join("10.0.0.1", testSwarm, true)
	b := e.join("10.7.0.1", testSwarm, true) // other group: cannot have got bytes from a
	b.send(&wire.ReportMsg{Seq: 3, Source: wire.SourcePeer, Peer: a.id, Bytes: 10, Reason: wire.ReasonHash})
	// a is still served: its want is answered.
	if p := a.want(1); !p.Fetch {
		t.Fatalf("a after unverified report: %+v", p)
	}
}

func TestSignalRelay(t *testing.T) {
	e := newEnv(t, Config{})
	a := e.join("10.0.0.1", testSwarm, true)
	b := e.join("10.0.0.2", testSwarm, true)
	far := e.join("10.5.0.1", testSwarm, true)
	a.send(&wire.SignalMsg{To: b.id, Data: []byte(`{"sdp":{"type":"offer","sdp":"v=0"}}`)})
	s := b.expect(wire.TypeSignal).(*wire.SignalMsg)
	if s.From != a.id || string(s.Data) != `{"sdp":{"type":"offer","sdp":"v=0"}}` {
		t.Fatalf("relayed %+v", s)
	}
	a.send(&wire.SignalMsg{To: far.id, Data: []byte(`{}`)})
	if m := a.expect(wire.TypeError).(*wire.ErrorMsg); m.Code != wire.CodeUnknownPeer {
		t.Fatalf("cross-group signal: %+v", m)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct {
		name, msg, code string
		joinFirst       bool
	}{
		{"not json", `{{{`, wire.CodeBadMessage, false},
		{"unknown type", `{"t":"hello"}`, wire.CodeBadMessage, true},
		{"unknown field", `{"t":"want","seq":1,"evil":true}`, wire.CodeBadMessage, true},
		{"before join", `{"t":"want","seq":1}`, wire.CodeOutOfOrder, false},
		{"second join", `{"t":"join","swarm":"vod/a/b"}`, wire.CodeOutOfOrder, true},
		{"oversized", `{"t":"want","seq":1,"x":"` + strings.Repeat("x", wire.MaxMessageBytes) + `"}`, wire.CodeTooLarge, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.dial("10.0.0.1")
			if tt.joinFirst {
				c.send(&wire.JoinMsg{Swarm: testSwarm})
				c.expect(wire.TypeWelcome)
			}
			for i := range DefaultMaxErrors {
				c.sendRaw(tt.msg)
				if m := c.expect(wire.TypeError).(*wire.ErrorMsg); m.Code != tt.code {
					t.Fatalf("message %d: error %+v, want %s", i, m, tt.code)
				}
			}
			if st := c.closed(); st != websocket.StatusPolicyViolation {
				t.Fatalf("close status %v", st)
			}
		})
	}
	// Binary frames are errors too; the tracker keeps serving others.
	c := e.dial("10.0.0.1")
	ctx := t.Context()
	if err := c.conn.Write(ctx, websocket.MessageBinary, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if m := c.expect(wire.TypeError).(*wire.ErrorMsg); m.Code != wire.CodeBadMessage {
		t.Fatalf("binary: %+v", m)
	}
	e.join("10.0.0.2", testSwarm, true)
}

func TestHardLimitCloses(t *testing.T) {
	e := newEnv(t, Config{})
	c := e.dial("")
	if err := c.conn.Write(t.Context(), websocket.MessageText, make([]byte, hardReadLimit+10)); err != nil {
		t.Fatal(err)
	}
	if st := c.closed(); st != websocket.StatusMessageTooBig {
		t.Fatalf("close status %v", st)
	}
}

func TestSubprotocolRequired(t *testing.T) {
	e := newEnv(t, Config{})
	_, resp, err := websocket.Dial(t.Context(), e.url, nil)
	if err == nil || resp == nil || resp.StatusCode != 400 {
		t.Fatalf("dial without subprotocol: %v %v", resp, err)
	}
}

func TestRateLimits(t *testing.T) {
	t.Run("per connection", func(t *testing.T) {
		e := newEnv(t, Config{MsgRate: 0.001, MsgBurst: 3})
		c := e.join("", testSwarm, true) // join took one token
		c.send(&wire.HaveMsg{})
		c.send(&wire.HaveMsg{})
		codes := map[string]int{}
		for range DefaultMaxErrors {
			c.send(&wire.HaveMsg{})
			codes[c.expect(wire.TypeError).(*wire.ErrorMsg).Code]++
		}
		if codes[wire.CodeRateLimited] != DefaultMaxErrors {
			t.Fatalf("codes %v", codes)
		}
		if st := c.closed(); st != websocket.StatusPolicyViolation {
			t.Fatalf("close %v", st)
		}
	})
	t.Run("per address", func(t *testing.T) {
		e := newEnv(t, Config{MaxConnsPerAddr: 2, ConnectRate: 1000, ConnectBurst: 1000})
		e.dial("192.0.2.1")
		e.dial("192.0.2.1")
		if _, err := e.tryDial("192.0.2.1"); err == nil {
			t.Fatal("third socket from one address accepted")
		}
		e.dial("192.0.2.2") // other addresses unaffected
		if v := e.metricValue("classmesh_p2p_connection_failures_total", map[string]string{"reason": failAddrConns}); v != 1 {
			t.Fatalf("addr_conns failures %v", v)
		}
	})
	t.Run("connect rate", func(t *testing.T) {
		e := newEnv(t, Config{ConnectRate: 0.001, ConnectBurst: 2})
		e.dial("192.0.2.1")
		e.dial("192.0.2.1")
		if _, err := e.tryDial("192.0.2.1"); err == nil {
			t.Fatal("connect burst exceeded but accepted")
		}
	})
}

func TestNeighborsBoundedSymmetric(t *testing.T) {
	e := newEnv(t, Config{MaxPeers: 2})
	for i := range 6 {
		e.join(netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}).String(), testSwarm, true)
	}
	// Every peer's degree is bounded by MaxPeers; inspect tracker state.
	sw := e.tr.swarm(testSwarm)
	sw.mu.Lock()
	degrees := []int{}
	for _, p := range sw.peers {
		if len(p.nbrs) > 2 {
			t.Errorf("peer %s has %d neighbors", p.ids, len(p.nbrs))
		}
		for _, n := range p.nbrs {
			if !n.isNeighbor(p) {
				t.Errorf("asymmetric link %s-%s", p.ids, n.ids)
			}
		}
		degrees = append(degrees, len(p.nbrs))
	}
	sw.mu.Unlock()
	sort.Ints(degrees)
	if degrees[len(degrees)-1] == 0 {
		t.Fatalf("no links: %v", degrees)
	}
}

func TestNeighborRefill(t *testing.T) {
	e := newEnv(t, Config{MaxPeers: 1})
	a := e.join("10.0.0.1", testSwarm, true)
	b := e.join("10.0.0.2", testSwarm, true)
	a.neighborsUntil(func(p []string) bool { return contains(p, b.id) })
	c := e.join("10.0.0.3", testSwarm, true) // a and b are full
	if nb := c.expect(wire.TypeNeighbors).(*wire.NeighborsMsg).Peers; len(nb) != 0 {
		t.Fatalf("c neighbors %v", nb)
	}
	b.send(&wire.ByeMsg{})
	b.closed()
	a.neighborsUntil(func(p []string) bool { return len(p) == 1 && p[0] == c.id })
	c.neighborsUntil(func(p []string) bool { return len(p) == 1 && p[0] == a.id })
}

func TestIdleSweep(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Config{Now: clk.Now, IdleTimeout: time.Minute})
	quiet := e.join("10.0.0.1", testSwarm, true)
	clk.advance(30 * time.Second)
	chatty := e.join("10.0.0.2", testSwarm, true)
	e.tr.sweepIdle(clk.advance(45 * time.Second))
	if st := quiet.closed(); st != websocket.StatusGoingAway {
		t.Fatalf("idle close status %v", st)
	}
	chatty.sync() // still served
}

// TestNeighborGraphConnected: viewers that join one after another end up
// in one connected neighbor graph (not in cliques of MaxPeers+1), with
// degrees still bounded and links symmetric.
func TestNeighborGraphConnected(t *testing.T) {
	e := newEnv(t, Config{MaxPeers: 3})
	for i := range 24 {
		e.join(netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}).String(), testSwarm, true)
	}
	sw := e.tr.swarm(testSwarm)
	sw.mu.Lock()
	defer sw.mu.Unlock()
	var start *peer
	for _, p := range sw.peers {
		start = p
		if len(p.nbrs) > 3 {
			t.Errorf("peer %s has %d neighbors", p.ids, len(p.nbrs))
		}
		for _, n := range p.nbrs {
			if !n.isNeighbor(p) {
				t.Errorf("asymmetric link %s-%s", p.ids, n.ids)
			}
		}
	}
	seen := map[*peer]bool{start: true}
	queue := []*peer{start}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, n := range p.nbrs {
			if !seen[n] {
				seen[n] = true
				queue = append(queue, n)
			}
		}
	}
	if len(seen) != len(sw.peers) {
		t.Fatalf("neighbor graph not connected: %d of %d peers reachable", len(seen), len(sw.peers))
	}
}
