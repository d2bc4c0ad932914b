package p2p

import (
	"time"

	"github.com/coder/websocket"

	"github.com/classmesh/classmesh/p2p/wire"
)

// Score changes from reports about an uploading peer.
const (
	scoreOK      = 1
	scoreTimeout = -3
	scoreBad     = -10
	scoreMax     = 1000
	scoreMin     = -1000
	// maxDropsPerReporter bounds the drops one socket can take part in
	// (reports.go counts reports per address; this is a second bound).
	maxDropsPerReporter = 2
)

// handle dispatches one decoded message; stop ends the read loop.
func (t *Tracker) handle(p *peer, m wire.Message, now time.Time) (stop bool) {
	if j, ok := m.(*wire.JoinMsg); ok {
		return t.join(p, j, now)
	}
	if !p.joined {
		return t.protoError(p, wire.CodeOutOfOrder, "join must be the first message", now)
	}
	switch m := m.(type) {
	case *wire.HaveMsg:
		t.have(p, m.Ranges)
	case *wire.LostMsg:
		t.lost(p, m.Ranges)
	case *wire.WantMsg:
		t.want(p, m.Seq, now)
	case *wire.SignalMsg:
		t.signal(p, m)
	case *wire.ReportMsg:
		t.report(p, m, now)
	case *wire.ByeMsg:
		p.closeWith(nil, websocket.StatusNormalClosure, "bye")
		return true
	}
	return false
}

func (t *Tracker) join(p *peer, m *wire.JoinMsg, now time.Time) (stop bool) {
	if p.joined {
		return t.protoError(p, wire.CodeOutOfOrder, "already joined a swarm", now)
	}
	if t.cfg.KnownSwarm != nil && !t.cfg.KnownSwarm(m.Swarm) {
		t.m.connFailures.WithLabelValues(failUnknownSwrm).Inc()
		p.closeWith(&wire.ErrorMsg{Code: wire.CodeUnknownSwarm, Msg: "this edge does not serve " + m.Swarm},
			websocket.StatusPolicyViolation, "unknown swarm")
		return true
	}
	if t.cfg.Admit != nil {
		if err := t.cfg.Admit(p.req, m.Swarm); err != nil {
			t.m.connFailures.WithLabelValues(failForbidden).Inc()
			t.cfg.Logger.Info("p2p: join refused", "swarm", m.Swarm, "err", err)
			p.closeWith(&wire.ErrorMsg{Code: wire.CodeForbidden, Msg: "no playback authorisation for this swarm: open it with the same signed link as the video"},
				websocket.StatusPolicyViolation, "forbidden")
			return true
		}
	}
	p.joined = true
	p.upload = m.Upload
	sw := t.acquireSwarm(m.Swarm)
	sw.mu.Lock()
	defer sw.mu.Unlock()
	p.sw = sw
	if len(sw.peers) == 0 && t.nodeSpike.Load() {
		sw.spike = true
	}
	p.sendMsg(&wire.WelcomeMsg{V: wire.ProtocolVersion, Peer: p.ids, Group: p.loc.group,
		Policy: p.loc.policy, Config: t.clientConfig(sw.spike)})
	sw.addLocked(p, t.cfg.MaxPeers)
	return false
}

// acquireSwarm returns the swarm id, creating it, and counts a reference.
func (t *Tracker) acquireSwarm(id string) *swarm {
	t.mu.Lock()
	defer t.mu.Unlock()
	sw := t.swarms[id]
	if sw == nil {
		sw = newSwarm(id)
		t.swarms[id] = sw
	}
	sw.refs++
	return sw
}

// leave takes a joined peer out of its swarm (once, from its reader).
func (t *Tracker) leave(p *peer) {
	sw := p.sw
	if sw == nil {
		return
	}
	sw.mu.Lock()
	sw.removeLocked(p, t.cfg.MaxPeers)
	sw.mu.Unlock()
	t.mu.Lock()
	if sw.refs--; sw.refs == 0 {
		delete(t.swarms, sw.id)
	}
	t.mu.Unlock()
}

func (t *Tracker) have(p *peer, rs []wire.Range) {
	sw := p.sw
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if p.gone {
		return
	}
	for _, r := range rs {
		p.ranges.Add(r)
	}
	p.ranges.Trim(maxPeerRanges)
	if p.grp != nil && len(rs) > 0 {
		p.grp.noteHave(p)
	}
}

func (t *Tracker) lost(p *peer, rs []wire.Range) {
	sw := p.sw
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if p.gone {
		return
	}
	for _, r := range rs {
		p.ranges.Remove(r)
	}
	if p.grp != nil && len(rs) > 0 {
		p.grp.noteLost(p)
	}
}

func (t *Tracker) want(p *peer, seq uint64, now time.Time) {
	reply := &wire.PeersMsg{Seq: seq, Peers: []string{}}
	if e, ok := t.hashes.get(p.sw.id, seq); ok {
		reply.SHA256, reply.Size = e.Hex(), e.Size
	}
	sw := p.sw
	sw.mu.Lock()
	if p.grp != nil && !p.gone {
		fetch, list := p.grp.answerWant(p, seq, now, t.cfg.FetchTimeout)
		reply.Fetch = fetch
		for _, c := range list {
			reply.Peers = append(reply.Peers, c.ids)
		}
	}
	sw.mu.Unlock()
	p.sendMsg(reply)
}

func (t *Tracker) signal(p *peer, m *wire.SignalMsg) {
	to, _ := parsePeerID(m.To)
	sw := p.sw
	sw.mu.Lock()
	x := sw.peers[to]
	ok := x != nil && !x.gone && x != p && p.grp != nil && x.grp == p.grp && !p.gone
	if ok && !x.relay(wire.MustEncode(&wire.SignalMsg{From: p.ids, Data: m.Data})) {
		t.m.signalsDropped.Inc() // x's queue is half full: WebRTC retries or times out
	}
	sw.mu.Unlock()
	if !ok {
		p.sendMsg(&wire.ErrorMsg{Code: wire.CodeUnknownPeer, Msg: "no such peer in your swarm and group"})
	}
}

// report counts played bytes and weighs what a downloader says about a
// peer: ok and timeouts move scores, bad bytes go to badReport.
func (t *Tracker) report(p *peer, m *wire.ReportMsg, now time.Time) {
	t.acct.played(p.sw.id, p.loc.site, m.Source, m.Bytes)
	if m.Source != wire.SourcePeer {
		return
	}
	bad := !m.OK && (m.Reason == wire.ReasonHash || m.Reason == wire.ReasonSize)
	if !m.OK {
		t.m.peerFailures.WithLabelValues(m.Reason).Inc()
		if bad {
			t.m.hashFailures.Inc()
		}
	}
	id, _ := parsePeerID(m.Peer)
	_, hashKnown := t.hashes.get(p.sw.id, m.Seq)
	sw := p.sw
	sw.mu.Lock()
	defer sw.mu.Unlock()
	x := sw.peers[id]
	if x == nil || x == p || x.gone || p.gone {
		if bad {
			t.m.reports.WithLabelValues(reportIgnoredPeer).Inc()
		}
		return
	}
	switch {
	case m.OK:
		x.addScore(scoreOK)
	case !bad:
		x.addScore(scoreTimeout)
	default:
		t.badReport(sw, p, x, hashKnown, now)
	}
}

func (p *peer) addScore(d int32) {
	p.score += d
	switch {
	case p.score > scoreMax:
		p.score = scoreMax
	case p.score < scoreMin:
		p.score = scoreMin
	}
}
