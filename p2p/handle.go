package p2p

import (
	"time"

	"github.com/coder/websocket"
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
func (t *Tracker) handle(p *peer, m Message, now time.Time) (stop bool) {
	if j, ok := m.(*JoinMsg); ok {
		return t.join(p, j, now)
	}
	if !p.joined {
		return t.protoError(p, CodeOutOfOrder, "join must be the first message", now)
	}
	switch m := m.(type) {
	case *HaveMsg:
		t.have(p, m.Ranges)
	case *LostMsg:
		t.lost(p, m.Ranges)
	case *WantMsg:
		t.want(p, m.Seq, now)
	case *SignalMsg:
		t.signal(p, m)
	case *ReportMsg:
		t.report(p, m, now)
	case *ByeMsg:
		p.closeWith(nil, websocket.StatusNormalClosure, "bye")
		return true
	}
	return false
}

func (t *Tracker) join(p *peer, m *JoinMsg, now time.Time) (stop bool) {
	if p.joined {
		return t.protoError(p, CodeOutOfOrder, "already joined a swarm", now)
	}
	if t.cfg.KnownSwarm != nil && !t.cfg.KnownSwarm(m.Swarm) {
		t.m.connFailures.WithLabelValues(failUnknownSwrm).Inc()
		p.closeWith(&ErrorMsg{Code: CodeUnknownSwarm, Msg: "this edge does not serve " + m.Swarm},
			websocket.StatusPolicyViolation, "unknown swarm")
		return true
	}
	if t.cfg.Admit != nil {
		if err := t.cfg.Admit(p.req, m.Swarm); err != nil {
			t.m.connFailures.WithLabelValues(failForbidden).Inc()
			t.cfg.Logger.Info("p2p: join refused", "swarm", m.Swarm, "err", err)
			p.closeWith(&ErrorMsg{Code: CodeForbidden, Msg: "no playback authorisation for this swarm: open it with the same signed link as the video"},
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
	p.sendMsg(&WelcomeMsg{V: ProtocolVersion, Peer: p.ids, Group: p.loc.group,
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

func (t *Tracker) have(p *peer, rs []Range) {
	sw := p.sw
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if p.gone {
		return
	}
	for _, r := range rs {
		p.ranges.add(r)
	}
	p.ranges.trim(maxPeerRanges)
	if p.grp != nil && len(rs) > 0 {
		p.grp.noteHave(p)
	}
}

func (t *Tracker) lost(p *peer, rs []Range) {
	sw := p.sw
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if p.gone {
		return
	}
	for _, r := range rs {
		p.ranges.remove(r)
	}
	if p.grp != nil && len(rs) > 0 {
		p.grp.noteLost(p)
	}
}

func (t *Tracker) want(p *peer, seq uint64, now time.Time) {
	reply := &PeersMsg{Seq: seq, Peers: []string{}}
	if e, ok := t.hashes.get(p.sw.id, seq); ok {
		reply.SHA256, reply.Size = hexSum(e.sum), e.size
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

func (t *Tracker) signal(p *peer, m *SignalMsg) {
	to, _ := parsePeerID(m.To)
	sw := p.sw
	sw.mu.Lock()
	x := sw.peers[to]
	ok := x != nil && !x.gone && x != p && p.grp != nil && x.grp == p.grp && !p.gone
	if ok && !x.relay(MustEncode(&SignalMsg{From: p.ids, Data: m.Data})) {
		t.m.signalsDropped.Inc() // x's queue is half full: WebRTC retries or times out
	}
	sw.mu.Unlock()
	if !ok {
		p.sendMsg(&ErrorMsg{Code: CodeUnknownPeer, Msg: "no such peer in your swarm and group"})
	}
}

// report counts played bytes and weighs what a downloader says about a
// peer: ok and timeouts move scores, bad bytes go to badReport.
func (t *Tracker) report(p *peer, m *ReportMsg, now time.Time) {
	t.acct.played(p.sw.id, p.loc.site, m.Source, m.Bytes)
	if m.Source != SourcePeer {
		return
	}
	bad := !m.OK && (m.Reason == ReasonHash || m.Reason == ReasonSize)
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
