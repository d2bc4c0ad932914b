package p2p

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/classmesh/classmesh/p2p/wire"
)

// How bad-bytes reports ("report ok:false reason:hash|size" about a peer)
// are weighed. The tracker never sees the bytes a peer sent, so a report
// is a claim. Invariants:
//
//   - A report counts only when it is plausible: the accused is in the
//     reporter's swarm and group, the tracker paired them (neighbor, or
//     the tracker pointed the reporter at it) and the edge knows the
//     published hash of that segment, the only thing a downloader may
//     check against.
//   - Reports are counted per client address (reporterKey: IPv4 address,
//     IPv6 /64), across sockets and swarms. An uploader is dropped only
//     when DropQuorum different addresses reported it within
//     ReportWindow; one address, with any number of sockets, never drops
//     anyone.
//   - Every address has a budget of reports (ReportBurst tokens, ReportRate
//     per second). A plausible report spends a token; reaching the quorum
//     gives the tokens of every accuser back. An address whose budget is
//     empty (its reports were not corroborated) is a suspect: its reports
//     are ignored and its sockets are ranked after every other source.
//   - Any plausible report protects the reporter at once: its link to the
//     accused is cut and it is never paired with or pointed at the accused
//     again (blockSlots most recent). That costs nobody else anything.
//
// Lock order: swarm mutex → reportLedger.mu; the ledger never takes a
// swarm mutex.

// Report outcomes (classmesh_p2p_reports_total{outcome}) of bad-bytes
// reports about a peer.
const (
	reportAccepted         = "accepted"          // counted, waiting for other addresses
	reportDropped          = "dropped"           // completed the quorum: the accused was dropped
	reportIgnoredPeer      = "ignored_peer"      // no such peer in the swarm (left, dropped, self)
	reportIgnoredUnpaired  = "ignored_unpaired"  // other group, or never paired with the accused
	reportIgnoredNoHash    = "ignored_no_hash"   // the edge does not know that segment's hash
	reportIgnoredDuplicate = "ignored_duplicate" // this address already reported that peer
	reportIgnoredBudget    = "ignored_budget"    // the address spent its budget (suspect)
	reportIgnoredSocket    = "ignored_socket"    // this socket already caused maxDropsPerReporter drops
)

// Drop causes (classmesh_p2p_drops_total{cause}).
const (
	dropCauseQuorum   = "quorum"   // reported by DropQuorum addresses: disconnected
	dropCauseReporter = "reporter" // link between one reporter and the accused cut
)

// Accusation bounds.
const (
	maxAccusers = 8 // accusations kept per accused peer (distinct addresses)
	blockSlots  = 8 // peers a socket reported, never paired with it again
)

// reporterKey is the address reports are counted by.
func reporterKey(a netip.Addr) netip.Addr { return limitKey(a) }

// reporter is the report standing of one client address, shared by its
// sockets. budget and conns are guarded by reportLedger.mu; suspect is
// read under swarm locks without it.
type reporter struct {
	key     netip.Addr
	conns   int
	budget  bucket
	suspect atomic.Bool // budget empty at the last update
}

// reportLedger holds the reporter of every address with a socket, and
// of addresses whose budget is still refilling.
type reportLedger struct {
	rate  float64
	burst int

	mu sync.Mutex
	m  map[netip.Addr]*reporter
}

func newReportLedger(rate float64, burst int) *reportLedger {
	return &reportLedger{rate: rate, burst: burst, m: make(map[netip.Addr]*reporter)}
}

// acquire returns the reporter of a and counts one socket.
func (l *reportLedger) acquire(a netip.Addr) *reporter {
	k := reporterKey(a)
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.m[k]
	if r == nil {
		r = &reporter{key: k}
		l.m[k] = r
	}
	r.conns++
	return r
}

// release ends one socket of r.
func (l *reportLedger) release(r *reporter) {
	l.mu.Lock()
	if r.conns > 0 {
		r.conns--
	}
	l.mu.Unlock()
}

// spend takes one report token from r; ok is false when its budget is
// empty. became reports that r turned suspect with this call.
func (l *reportLedger) spend(r *reporter, now time.Time) (ok, became bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ok = r.budget.take(now, l.rate, l.burst)
	suspect := !r.budget.has(now, l.rate, l.burst)
	was := r.suspect.Swap(suspect)
	return ok, suspect && !was
}

// refund gives r back the token of a corroborated report.
func (l *reportLedger) refund(r *reporter, now time.Time) {
	l.mu.Lock()
	r.budget.give(now, l.rate, l.burst)
	r.suspect.Store(!r.budget.has(now, l.rate, l.burst))
	l.mu.Unlock()
}

// sweep refreshes suspect flags (budgets refill) and forgets addresses
// with no socket and a full budget. An address that closes its sockets
// keeps its standing until the budget has refilled.
func (l *reportLedger) sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, r := range l.m {
		r.suspect.Store(!r.budget.has(now, l.rate, l.burst))
		if r.conns == 0 && r.budget.full(now, l.rate, l.burst) {
			delete(l.m, k)
		}
	}
}

// get returns the reporter of address s (tests).
func (l *reportLedger) get(s string) *reporter {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[reporterKey(a)]
}

// accusation is one address's bad report about a peer.
type accusation struct {
	by *reporter
	p  *peer // the socket that reported
	at time.Time
}

// suspect reports whether p's address spent its report budget.
func (p *peer) suspect() bool { return p.rep != nil && p.rep.suspect.Load() }

// block remembers that p reported q: they are never paired again.
func (p *peer) block(q uint64) {
	if p.blocks(q) {
		return
	}
	p.blocked[p.blockPos%blockSlots] = q
	p.blockPos++
}

func (p *peer) blocks(q uint64) bool {
	if q == 0 {
		return false
	}
	for _, b := range p.blocked {
		if b == q {
			return true
		}
	}
	return false
}

// apart reports whether p and q must not be paired (one reported the other).
func apart(p, q *peer) bool { return p.blocks(q.id) || q.blocks(p.id) }

// accusedBy reports whether r's address has an unexpired accusation on
// x (by key: the ledger may have replaced the reporter of an address).
func (x *peer) accusedBy(r *reporter) bool {
	for _, a := range x.accusers {
		if a.by.key == r.key {
			return true
		}
	}
	return false
}

// pruneAccusations forgets accusations older than window (they stay
// uncorroborated: their tokens are not given back).
func (x *peer) pruneAccusations(now time.Time, window time.Duration) {
	live := x.accusers[:0]
	for _, a := range x.accusers {
		if now.Sub(a.at) < window {
			live = append(live, a)
		}
	}
	clear(x.accusers[len(live):])
	x.accusers = live
}

// badReport weighs a plausible-looking bad-bytes report from p about x
// (both in sw, x != p, neither gone). Caller holds sw.mu.
func (t *Tracker) badReport(sw *swarm, p, x *peer, hashKnown bool, now time.Time) {
	switch {
	case p.grp == nil || p.grp != x.grp || !(p.isNeighbor(x) || x.askedBy(p.id) || p.blocks(x.id)):
		t.reportOutcome(reportIgnoredUnpaired, p, x)
		return
	case !hashKnown:
		t.reportOutcome(reportIgnoredNoHash, p, x)
		return
	}
	defer t.isolateLocked(sw, p, x) // whatever the outcome, p stops using x
	x.pruneAccusations(now, t.cfg.ReportWindow)
	switch {
	case x.accusedBy(p.rep):
		t.reportOutcome(reportIgnoredDuplicate, p, x)
		return
	case p.drops >= maxDropsPerReporter:
		t.reportOutcome(reportIgnoredSocket, p, x)
		return
	}
	ok, became := t.reports.spend(p.rep, now)
	if became {
		t.log.Info("p2p: address spent its bad-report budget; its reports are ignored and its peers ranked last",
			"addr", p.loc.addr, "key", p.rep.key, "burst", t.cfg.ReportBurst)
	}
	if !ok {
		t.reportOutcome(reportIgnoredBudget, p, x)
		return
	}
	x.addScore(scoreBad)
	if len(x.accusers) == maxAccusers {
		copy(x.accusers, x.accusers[1:])
		x.accusers = x.accusers[:maxAccusers-1]
	}
	x.accusers = append(x.accusers, accusation{by: p.rep, p: p, at: now})
	if len(x.accusers) < t.cfg.DropQuorum {
		t.reportOutcome(reportAccepted, p, x)
		return
	}
	// Quorum: the accusers were right; their reports cost them nothing.
	t.reportOutcome(reportDropped, p, x)
	for _, a := range x.accusers {
		t.reports.refund(a.by, now)
		if !a.p.gone {
			a.p.drops++
		}
	}
	t.m.drops.WithLabelValues(dropCauseQuorum).Inc()
	t.dropLocked(sw, x)
}

// reportOutcome counts and logs one weighed bad report.
func (t *Tracker) reportOutcome(outcome string, p, x *peer) {
	t.m.reports.WithLabelValues(outcome).Inc()
	if outcome != reportAccepted && outcome != reportDropped {
		t.log.Debug("p2p: bad-segment report ignored", "outcome", outcome,
			"reporter", p.ids, "addr", p.loc.addr, "accused", x.ids)
	}
}

// isolateLocked cuts the link between reporter p and accused x (if x was
// not dropped): p gets drop for x and both get fresh neighbors; they are
// never paired again. Caller holds sw.mu.
func (t *Tracker) isolateLocked(sw *swarm, p, x *peer) {
	if x.gone || p.gone || p.blocks(x.id) {
		return
	}
	p.block(x.id)
	p.sendMsg(&wire.DropMsg{Peer: x.ids, Reason: wire.DropBadSegment})
	t.m.drops.WithLabelValues(dropCauseReporter).Inc()
	if !p.isNeighbor(x) || p.grp == nil {
		return
	}
	g := p.grp
	p.unlink(x)
	x.unlink(p)
	out := outbox{p: {}, x: {}}
	for _, q := range []*peer{p, x} {
		g.fill(q, t.cfg.MaxPeers, out)
		g.updateOpen(q, t.cfg.MaxPeers)
	}
	out.flushNeighbors()
}

// dropLocked removes bad peer x: its neighbors and the peers pointed at it
// get drop, x gets error dropped and its socket is closed. Caller holds
// sw.mu.
func (t *Tracker) dropLocked(sw *swarm, x *peer) {
	targets := append([]*peer(nil), x.nbrs...)
	for _, a := range x.askers {
		if q := sw.peers[a]; q != nil && a != 0 && !x.isNeighbor(q) {
			targets = append(targets, q)
		}
	}
	// The reason goes out before the neighbor lists that no longer name
	// x, so clients learn that x is bad, not merely gone.
	b := wire.MustEncode(&wire.DropMsg{Peer: x.ids, Reason: wire.DropBadSegment})
	for _, q := range targets {
		if !q.gone {
			q.send(b)
		}
	}
	sw.removeLocked(x, t.cfg.MaxPeers)
	t.m.connFailures.WithLabelValues(failDropped).Inc()
	t.log.Info("p2p: dropped peer for bad segments", "swarm", sw.id, "peer", x.ids, "addr", x.loc.addr,
		"reporters", len(x.accusers))
	x.closeWith(&wire.ErrorMsg{Code: wire.CodeDropped, Msg: "a segment you sent failed verification"},
		websocket.StatusPolicyViolation, "bad segment")
}
