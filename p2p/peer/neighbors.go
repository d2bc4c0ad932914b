package peer

import (
	"encoding/json"
	"slices"

	"github.com/pion/webrtc/v4"

	"github.com/classmesh/classmesh/p2p/wire"
)

// maxLinks is how many data channels we keep: the tracker's max_peers
// (offers we send), with room for as many answers again.
func (p *Peer) maxLinksLocked() int {
	return 2 * max(p.ccfg.MaxPeers, 1)
}

// setNeighbors applies the tracker's complete neighbor list: we offer to
// new neighbors with a higher id and close offers to peers no longer
// listed. Links we answered stay until they close (the other side chose).
func (p *Peer) setNeighbors(ids []string) {
	var offer []*link
	var stale []*link
	p.mu.Lock()
	p.neighbors = slices.Clone(ids)
	if p.policy == wire.PolicyOff || p.closed {
		p.mu.Unlock()
		return
	}
	for _, l := range p.links {
		if l.offerer && !slices.Contains(ids, l.remote) {
			stale = append(stale, l)
		}
	}
	for _, id := range ids {
		if !wire.ValidPeerID(id) || id == p.id || p.bad[id] || p.links[id] != nil || id < p.id {
			continue
		}
		if len(p.links)-len(stale) >= p.maxLinksLocked() {
			break
		}
		l, err := newLink(p, id, true)
		if err != nil {
			p.log.Debug("peer: new link", "to", id, "err", err)
			continue
		}
		p.links[id] = l
		offer = append(offer, l)
	}
	p.mu.Unlock()
	for _, l := range stale {
		l.close(wire.ReasonClosed)
	}
	for _, l := range offer {
		if err := l.startOffer(); err != nil {
			p.log.Debug("peer: offer", "to", l.remote, "err", err)
			l.close(wire.ReasonClosed)
		}
	}
}

// onSignal handles signalling relayed from another peer of the swarm.
func (p *Peer) onSignal(from string, raw json.RawMessage) {
	d, err := decodeSignal(raw)
	if err != nil || !wire.ValidPeerID(from) {
		return
	}
	switch {
	case d.SDP != nil && d.SDP.Type == webrtc.SDPTypeOffer:
		p.onOffer(from, *d.SDP)
	case d.SDP != nil:
		p.mu.Lock()
		l := p.links[from]
		p.mu.Unlock()
		if l != nil && l.offerer {
			if err := l.applyRemote(*d.SDP); err != nil {
				l.close(wire.ReasonClosed)
			}
		}
	case d.Candidate != nil:
		p.mu.Lock()
		l := p.links[from]
		p.mu.Unlock()
		if l != nil {
			l.addRemoteCandidate(*d.Candidate)
		}
	}
}

// onOffer answers an offer. When both sides offered, the lower id's offer
// wins (PROTOCOL.md: the lower id offers).
func (p *Peer) onOffer(from string, sd webrtc.SessionDescription) {
	p.mu.Lock()
	if p.policy == wire.PolicyOff || p.closed || p.bad[from] {
		p.mu.Unlock()
		return
	}
	old := p.links[from]
	switch {
	case old != nil && (!old.offerer || p.id < from):
		p.mu.Unlock()
		return // a repeated offer, or ours takes precedence
	case old == nil && len(p.links) >= p.maxLinksLocked():
		p.mu.Unlock()
		return
	}
	l, err := newLink(p, from, false)
	if err != nil {
		p.mu.Unlock()
		return
	}
	p.links[from] = l
	p.mu.Unlock()
	if old != nil {
		old.close(wire.ReasonClosed)
	}
	if err := l.applyRemote(sd); err != nil {
		p.log.Debug("peer: answer", "to", from, "err", err)
		l.close(wire.ReasonClosed)
	}
}

func (p *Peer) sendSignal(to string, d signalData) {
	p.send(&wire.SignalMsg{To: to, Data: encodeSignal(d)})
}

// removeLink forgets a closed link.
func (p *Peer) removeLink(l *link) {
	p.mu.Lock()
	if p.links[l.remote] == l {
		delete(p.links, l.remote)
	}
	p.mu.Unlock()
	p.notify()
}

// dropPeer stops using a peer; bad peers are never used again.
func (p *Peer) dropPeer(id string, bad bool) {
	p.mu.Lock()
	if bad && !p.bad[id] {
		p.bad[id] = true
		p.st.badPeers.Add(1)
	}
	l := p.links[id]
	p.mu.Unlock()
	if l != nil {
		l.close(wire.ReasonClosed)
	}
}

// openLinks returns the open links, in the order of prefs first.
func (p *Peer) openLinks(prefs []string) []*link {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*link, 0, len(p.links))
	for _, id := range prefs {
		if l := p.links[id]; l != nil && !p.bad[id] {
			out = append(out, l)
		}
	}
	for id, l := range p.links {
		if !slices.Contains(prefs, id) && !p.bad[id] {
			out = append(out, l)
		}
	}
	return out
}

// announce tells the tracker and every neighbor what we hold now.
func (p *Peer) announce(added uint64, evicted []uint64) {
	p.send(&wire.HaveMsg{Ranges: []wire.Range{{added, added}}})
	if len(evicted) > 0 {
		slices.Sort(evicted)
		p.send(&wire.LostMsg{Ranges: wire.RangesOf(evicted)})
	}
	have := &wire.HaveMsg{Ranges: p.store.ranges()}
	for _, l := range p.openLinks(nil) {
		l.sendControl(have)
	}
}
