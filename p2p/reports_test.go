package p2p

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/classmesh/classmesh/p2p/wire"
)

// reportAll makes c report every uploader in ups for seq as bad (hash)
// and waits until the tracker handled the reports.
func reportAll(c *client, ups []*client, seq uint64) {
	c.t.Helper()
	for _, u := range ups {
		c.send(&wire.ReportMsg{Seq: seq, Source: wire.SourcePeer, Peer: u.id, Bytes: 0, Reason: wire.ReasonHash})
	}
	c.sync()
}

// stillServed fails unless every client in cs is still joined: its want
// is answered and it was never told it was dropped.
func stillServed(t *testing.T, e *testEnv, cs []*client) {
	t.Helper()
	sw := e.tr.swarm(testSwarm)
	sw.mu.Lock()
	var gone []string
	for _, c := range cs {
		id, _ := parsePeerID(c.id)
		if x := sw.peers[id]; x == nil || x.gone {
			gone = append(gone, c.id)
		}
	}
	sw.mu.Unlock()
	if len(gone) > 0 {
		t.Fatalf("%d of %d honest uploaders disconnected: %v", len(gone), len(cs), gone)
	}
	for _, c := range cs {
		c.sync()
	}
}

// TestReportsFromOneAddressDropNobody reproduces finding 6 of issue 11:
// six sockets from one address report false hash failures against ten
// honest uploaders of their group, each after being pointed at them (so
// every report looks plausible). No uploader is disconnected; the liar's
// address runs out of report budget.
func TestReportsFromOneAddressDropNobody(t *testing.T) {
	// The per-socket message bucket is not the subject: each liar sends
	// about 80 messages at once.
	e := newEnv(t, Config{MsgRate: 1000, MsgBurst: 1000})
	var sum [32]byte
	for seq := range uint64(6) {
		e.tr.PutHash(testSwarm, seq, sum, 10)
	}
	var honest []*client
	for i := range 10 {
		u := e.join(fmt.Sprintf("10.0.0.%d", i+1), testSwarm, true)
		u.send(&wire.HaveMsg{Ranges: []wire.Range{{0, 5}}})
		u.sync()
		honest = append(honest, u)
	}
	for range 6 {
		liar := e.join("10.0.0.66", testSwarm, true)
		for seq := range uint64(6) {
			p := liar.want(seq) // the liar is pointed at holders
			byID := map[string]*client{}
			for _, u := range honest {
				byID[u.id] = u
			}
			var listed []*client
			for _, id := range p.Peers {
				if u := byID[id]; u != nil {
					listed = append(listed, u)
				}
			}
			reportAll(liar, listed, seq)
		}
		reportAll(liar, honest, 3)
	}
	stillServed(t, e, honest)
	if v := e.metricValue("classmesh_p2p_reports_total", map[string]string{"outcome": reportDropped}); v > 0 {
		t.Fatalf("%v reports caused a drop", v)
	}
	if v := e.metricValue("classmesh_p2p_reports_total", map[string]string{"outcome": reportIgnoredBudget}); v < 1 {
		t.Fatalf("the liar's address never ran out of budget (ignored_budget %v)", v)
	}
	if v := e.metricValue("classmesh_p2p_drops_total", map[string]string{"cause": dropCauseQuorum}); v > 0 {
		t.Fatalf("drops by quorum %v", v)
	}
}

// TestBadUploaderDroppedByIndependentReporters: an uploader that really
// sends bad bytes is reported by viewers at different addresses and
// dropped once DefaultDropQuorum of them did; a second socket of the
// first reporter's address does not count twice. Until then the
// uploader only loses its link to each reporter.
func TestBadUploaderDroppedByIndependentReporters(t *testing.T) {
	e := newEnv(t, Config{})
	var sum [32]byte
	e.tr.PutHash(testSwarm, 3, sum, 10)
	bad := e.join("10.0.0.1", testSwarm, true)
	bad.send(&wire.HaveMsg{Ranges: []wire.Range{{0, 5}}})
	bad.sync()
	r1 := e.join("10.0.0.2", testSwarm, true)
	r1b := e.join("10.0.0.2", testSwarm, true) // same address, other socket
	r2 := e.join("10.0.0.3", testSwarm, true)
	for _, r := range []*client{r1, r1b, r2} {
		if p := r.want(3); !contains(p.Peers, bad.id) {
			t.Fatalf("want: %+v", p)
		}
	}
	r1.send(&wire.ReportMsg{Seq: 3, Source: wire.SourcePeer, Peer: bad.id, Reason: wire.ReasonHash})
	if _, err := r1.waitFor(wire.TypeDrop, func(m wire.Message) bool { return m.(*wire.DropMsg).Peer == bad.id }); err != nil {
		t.Fatalf("reporter not told to stop using the accused: %v", err)
	}
	r1b.send(&wire.ReportMsg{Seq: 3, Source: wire.SourcePeer, Peer: bad.id, Reason: wire.ReasonSize})
	r1b.sync()
	bad.sync() // one address, two sockets: still joined
	if p := r1.want(3); contains(p.Peers, bad.id) {
		t.Fatalf("reporter still pointed at the peer it reported: %+v", p)
	}
	if v := e.metricValue("classmesh_p2p_reports_total", map[string]string{"outcome": reportIgnoredDuplicate}); v != 1 {
		t.Fatalf("duplicate reports %v, want 1", v)
	}

	r2.send(&wire.ReportMsg{Seq: 3, Source: wire.SourcePeer, Peer: bad.id, Reason: wire.ReasonHash})
	if m := bad.expect(wire.TypeError).(*wire.ErrorMsg); m.Code != wire.CodeDropped {
		t.Fatalf("bad peer got %+v", m)
	}
	if st := bad.closed(); st != websocket.StatusPolicyViolation {
		t.Fatalf("close status %v", st)
	}
	for name, want := range map[string]float64{reportAccepted: 1, reportDropped: 1} {
		if v := e.metricValue("classmesh_p2p_reports_total", map[string]string{"outcome": name}); v != want {
			t.Fatalf("reports %s = %v, want %v", name, v, want)
		}
	}
	if v := e.metricValue("classmesh_p2p_drops_total", map[string]string{"cause": dropCauseQuorum}); v != 1 {
		t.Fatalf("quorum drops %v", v)
	}
	// Corroborated reports are refunded: both reporters keep a full budget.
	for _, a := range []string{"10.0.0.2", "10.0.0.3"} {
		if r := e.tr.reports.get(a); r == nil || r.suspect.Load() || r.budget.tokens != float64(DefaultReportBurst) {
			t.Fatalf("reporter %s after a corroborated report: %+v", a, r)
		}
	}
}

// TestUncorroboratedReporterDeprioritised: an address whose bad reports
// nobody corroborates spends its budget, then its reports are ignored and
// its sockets are listed after every other holder.
func TestUncorroboratedReporterDeprioritised(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Config{Now: clk.Now})
	var sum [32]byte
	e.tr.PutHash(testSwarm, 3, sum, 10)
	var ups []*client
	for i := range DefaultReportBurst + 1 {
		u := e.join(fmt.Sprintf("10.0.0.%d", i+1), testSwarm, true)
		u.send(&wire.HaveMsg{Ranges: []wire.Range{{0, 9}}})
		u.sync()
		ups = append(ups, u)
	}
	liar := e.join("10.0.0.66", testSwarm, true)
	liar.send(&wire.HaveMsg{Ranges: []wire.Range{{0, 9}}})
	liar.want(3)
	reportAll(liar, ups, 3)
	for name, want := range map[string]float64{reportAccepted: DefaultReportBurst, reportIgnoredBudget: 1} {
		if v := e.metricValue("classmesh_p2p_reports_total", map[string]string{"outcome": name}); v != want {
			t.Fatalf("reports %s = %v, want %v", name, v, want)
		}
	}
	stillServed(t, e, ups)
	// A viewer asking for 7 gets every honest holder before the liar.
	v := e.join("10.0.0.200", testSwarm, false)
	p := v.want(7)
	if len(p.Peers) == 0 || p.Peers[len(p.Peers)-1] != liar.id && contains(p.Peers, liar.id) {
		t.Fatalf("suspect not listed last: %+v (liar %s)", p, liar.id)
	}
	if len(p.Peers) > 0 && p.Peers[0] == liar.id {
		t.Fatalf("suspect listed first: %+v", p)
	}
	// The budget refills with time: the address may report again.
	clk.advance(time.Duration(float64(time.Second) / DefaultReportRate))
	e.tr.reports.sweep(clk.Now())
	if r := e.tr.reports.get("10.0.0.66"); r == nil || r.suspect.Load() {
		t.Fatalf("reporter still suspect after the refill: %+v", r)
	}
}

// TestJoinFloodNeighborDiversity: one address opens many uploading
// sockets in a group before honest viewers join; each honest viewer gets
// at most one neighbor from that address, so it cannot be surrounded.
func TestJoinFloodNeighborDiversity(t *testing.T) {
	e := newEnv(t, Config{})
	for range 20 {
		e.join("10.0.0.66", testSwarm, true)
	}
	var vs []*client
	for i := range 5 {
		vs = append(vs, e.join(fmt.Sprintf("10.0.0.%d", i+1), testSwarm, true))
	}
	sw := e.tr.swarm(testSwarm)
	sw.mu.Lock()
	defer sw.mu.Unlock()
	for _, v := range vs {
		id, _ := parsePeerID(v.id)
		p := sw.peers[id]
		n := 0
		for _, q := range p.nbrs {
			if q.loc.addr.String() == "10.0.0.66" {
				n++
			}
		}
		if n > 1 {
			t.Errorf("viewer %s has %d of %d neighbors from one flooding address", v.id, n, len(p.nbrs))
		}
	}
}

// TestDropQuorumAddresses: reporters count by address (IPv4 address, IPv6
// /64), not by socket; the accused is dropped exactly when the quorum of
// different addresses reported it.
func TestDropQuorumAddresses(t *testing.T) {
	tests := []struct {
		name      string
		quorum    int
		accused   string
		reporters []string
		dropped   bool
	}{
		{"one IPv4 address, three sockets", 0, "10.0.0.1", []string{"10.0.0.2", "10.0.0.2", "10.0.0.2"}, false},
		{"two IPv4 addresses", 0, "10.0.0.1", []string{"10.0.0.2", "10.0.0.3"}, true},
		{"one IPv6 /64, two addresses", 0, "2001:db8:1:1::1", []string{"2001:db8:1:2::1", "2001:db8:1:2::2"}, false},
		{"two IPv6 /64s", 0, "2001:db8:1:1::1", []string{"2001:db8:1:2::1", "2001:db8:1:3::1"}, true},
		{"quorum 3, two addresses", 3, "10.0.0.1", []string{"10.0.0.2", "10.0.0.3"}, false},
		{"quorum 3, three addresses", 3, "10.0.0.1", []string{"10.0.0.2", "10.0.0.3", "10.0.0.4"}, true},
		{"quorum 1 (trusted network)", 1, "10.0.0.1", []string{"10.0.0.2"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{DropQuorum: tt.quorum})
			var sum [32]byte
			e.tr.PutHash(testSwarm, 3, sum, 10)
			x := e.join(tt.accused, testSwarm, true)
			x.send(&wire.HaveMsg{Ranges: []wire.Range{{3, 3}}})
			x.sync()
			for _, a := range tt.reporters {
				r := e.join(a, testSwarm, false)
				if p := r.want(3); !contains(p.Peers, x.id) {
					t.Fatalf("reporter %s not pointed at the accused: %+v", a, p)
				}
				reportAll(r, []*client{x}, 3)
			}
			if !tt.dropped {
				stillServed(t, e, []*client{x})
				return
			}
			if m := x.expect(wire.TypeError).(*wire.ErrorMsg); m.Code != wire.CodeDropped {
				t.Fatalf("accused got %+v", m)
			}
		})
	}
}

// TestReportStandingOutlivesSockets: an address that spent its budget in
// one swarm is a suspect in every swarm, and closing its sockets and
// reconnecting does not give the budget back.
func TestReportStandingOutlivesSockets(t *testing.T) {
	clk := newFakeClock()
	e := newEnv(t, Config{Now: clk.Now, ReportBurst: 1})
	var sum [32]byte
	const other = "vod/other/v720"
	for _, sw := range []string{testSwarm, other} {
		e.tr.PutHash(sw, 3, sum, 10)
	}
	var ups []*client
	for i, sw := range []string{testSwarm, other, other} {
		u := e.join(fmt.Sprintf("10.0.0.%d", i+1), sw, true)
		u.send(&wire.HaveMsg{Ranges: []wire.Range{{3, 3}}})
		u.sync()
		ups = append(ups, u)
	}
	liar := e.join("10.0.0.66", testSwarm, true)
	liar.want(3)
	reportAll(liar, ups[:1], 3) // spends the only token
	liar.send(&wire.ByeMsg{})
	liar.closed()
	e.tr.reports.sweep(clk.advance(time.Second))
	again := e.join("10.0.0.66", other, true)
	again.want(3)
	reportAll(again, ups[1:2], 3)
	for name, want := range map[string]float64{reportAccepted: 1, reportIgnoredBudget: 1} {
		if v := e.metricValue("classmesh_p2p_reports_total", map[string]string{"outcome": name}); v != want {
			t.Fatalf("reports %s = %v, want %v", name, v, want)
		}
	}
	if r := e.tr.reports.get("10.0.0.66"); r == nil || !r.suspect.Load() {
		t.Fatalf("reporter standing after reconnecting: %+v", r)
	}
}

func TestConfigValidateReports(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero", Config{}, true},
		{"defaults", DefaultConfig(), true},
		{"quorum 8", Config{DropQuorum: maxAccusers}, true},
		{"quorum above 8", Config{DropQuorum: maxAccusers + 1}, false},
		{"negative quorum", Config{DropQuorum: -1}, false},
		{"negative window", Config{ReportWindow: -time.Second}, false},
		{"negative burst", Config{ReportBurst: -1}, false},
		{"negative rate", Config{ReportRate: -1}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestSignalFloodCannotCloseVictim: sockets from one address flood a
// group member with large signals while it is busy; relayed signals may
// fill only half of its send queue, so the flood is dropped instead of
// getting the victim closed as a slow reader.
func TestSignalFloodCannotCloseVictim(t *testing.T) {
	e := newEnv(t, Config{MsgRate: 1000, MsgBurst: 1000})
	victim := e.join("10.0.0.1", testSwarm, true)
	victim.conn.SetReadLimit(1 << 20)
	data := []byte(`{"candidate":{"c":"` + strings.Repeat("x", wire.MaxMessageBytes-200) + `"}}`)
	raw := string(wire.MustEncode(&wire.SignalMsg{To: victim.id, Data: data}))
	var flood []*client
	for range 5 {
		a := e.join("10.0.0.66", testSwarm, true)
		for range 60 {
			a.sendRaw(raw)
		}
		flood = append(flood, a)
	}
	for _, a := range flood {
		a.sync()
	}
	// The victim reads now: it is still served.
	victim.sync()
	if v := e.metricValue("classmesh_p2p_connection_failures_total", map[string]string{"reason": failSlow}); v > 0 {
		t.Fatalf("%v sockets closed as slow readers", v)
	}
	if v := e.metricValue("classmesh_p2p_signals_dropped_total", nil); v < 1 {
		t.Fatalf("signals dropped %v", v)
	}
}
