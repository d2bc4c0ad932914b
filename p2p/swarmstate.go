package p2p

import (
	"math/rand/v2"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/classmesh/classmesh/p2p/wire"
)

// neighborSample bounds how many open peers are ranked when choosing
// neighbors, so a join costs the same in a group of 10 or 50 000.
const neighborSample = 64

// swarm is the peers of one swarm id on this edge. mu guards everything
// below it and the swarm-state fields of its peers.
type swarm struct {
	id    string
	kind  string
	asset string // asset or session id
	refs  int    // joined + joining peers; guarded by Tracker.mu

	mu     sync.Mutex
	peers  map[uint64]*peer
	groups map[string]*group
	// spike state: sizeSpike with hysteresis; spike is what clients were told.
	spike     bool
	sizeSpike bool
	calmSince time.Time
}

// group is one pairing group inside a swarm.
type group struct {
	label   string
	members map[uint64]*peer
	open    []*peer // uploaders with free neighbor slots
	fetch   map[uint64]*fetchState
}

func newSwarm(id string) *swarm {
	kind, name, _, _ := wire.SplitSwarm(id)
	return &swarm{id: id, kind: kind, asset: name,
		peers: make(map[uint64]*peer), groups: make(map[string]*group)}
}

func (s *swarm) group(label string) *group {
	g := s.groups[label]
	if g == nil {
		g = &group{label: label, members: make(map[uint64]*peer), fetch: make(map[uint64]*fetchState)}
		s.groups[label] = g
	}
	return g
}

// outbox collects the peers whose neighbor list changed during one
// operation; flush sends each one its new list once.
type outbox map[*peer]struct{}

func (o outbox) flushNeighbors() {
	for p := range o {
		if !p.gone {
			p.sendMsg(&wire.NeighborsMsg{Peers: p.neighborIDs()})
		}
	}
}

// addLocked adds p (already welcomed) to the swarm and its group and
// links it to up to maxPeers neighbors. Caller holds s.mu.
func (s *swarm) addLocked(p *peer, maxPeers int) {
	s.peers[p.id] = p
	p.openIdx = -1
	if p.loc.policy == wire.PolicyOff {
		return
	}
	g := s.group(p.loc.group)
	p.grp = g
	g.members[p.id] = p
	out := outbox{p: {}}
	g.fill(p, maxPeers, out)
	g.updateOpen(p, maxPeers)
	out.flushNeighbors()
}

// removeLocked takes p out of the swarm, unlinks its neighbors and refills
// their free slots. It returns p's former neighbors. Caller holds s.mu.
func (s *swarm) removeLocked(p *peer, maxPeers int) []*peer {
	if p.gone {
		return nil
	}
	p.gone = true
	delete(s.peers, p.id)
	g := p.grp
	if g == nil {
		return nil
	}
	delete(g.members, p.id)
	g.setOpen(p, false)
	former := p.nbrs
	p.nbrs = nil
	out := outbox{}
	for _, n := range former {
		n.unlink(p)
		out[n] = struct{}{}
	}
	for _, n := range former {
		g.fill(n, maxPeers, out)
		g.updateOpen(n, maxPeers)
	}
	out.flushNeighbors()
	if len(g.members) == 0 {
		delete(s.groups, g.label)
	}
	return former
}

func (p *peer) unlink(q *peer) {
	for i, n := range p.nbrs {
		if n == q {
			last := len(p.nbrs) - 1
			p.nbrs[i] = p.nbrs[last]
			p.nbrs[last] = nil
			p.nbrs = p.nbrs[:last]
			return
		}
	}
}

// fill links p to open peers until p has maxPeers neighbors or none fit;
// every peer whose list changed is added to out.
func (g *group) fill(p *peer, maxPeers int, out outbox) {
	need := maxPeers - len(p.nbrs)
	if need <= 0 || p.gone {
		return
	}
	cands := g.candidates(p, maxPeers)
	for _, c := range cands {
		if need == 0 {
			break
		}
		if !canLink(p, c) { // an earlier candidate came from c's address
			continue
		}
		p.nbrs = append(p.nbrs, c)
		c.nbrs = append(c.nbrs, p)
		g.updateOpen(c, maxPeers)
		out[p], out[c] = struct{}{}, struct{}{}
		need--
	}
	g.splice(p, need, maxPeers, out)
}

// splice gives an uploader p that found no open peer neighbors by
// splitting existing links: a–b becomes a–p–b, so a and b keep their
// degree. Without it, viewers that join one after another form separate
// cliques of maxPeers+1 with no link between them, and a clique without a
// fetcher of a segment falls back to HTTP.
func (g *group) splice(p *peer, need, maxPeers int, out outbox) {
	if !p.uploads() {
		return
	}
	for tries := 0; need >= 2 && tries < 4*maxPeers; tries++ {
		a := g.anyMember(p)
		if a == nil {
			return
		}
		if len(a.nbrs) == 0 || p.isNeighbor(a) {
			continue
		}
		b := a.nbrs[rand.IntN(len(a.nbrs))]
		if b == p || b.gone || p.isNeighbor(b) || !canLink(p, a) || !canLink(p, b) ||
			(a.loc.key == b.loc.key && a.loc.key != p.loc.key) {
			continue
		}
		a.unlink(b)
		b.unlink(a)
		p.nbrs = append(p.nbrs, a, b)
		a.nbrs = append(a.nbrs, p)
		b.nbrs = append(b.nbrs, p)
		out[p], out[a], out[b] = struct{}{}, struct{}{}, struct{}{}
		need -= 2
	}
}

// anyMember returns a member other than p (map order is random enough to
// spread the splices), or nil.
func (g *group) anyMember(p *peer) *peer {
	for _, m := range g.members {
		if m != p && !m.gone {
			return m
		}
	}
	return nil
}

// candidates ranks a sample of open peers for p: suspects (reports.go)
// last, then closest first, then best uploaders, then least connected (to
// spread load).
func (g *group) candidates(p *peer, maxPeers int) []*peer {
	n := len(g.open)
	if n == 0 {
		return nil
	}
	count, start := n, 0
	if n > neighborSample {
		count, start = neighborSample, rand.IntN(n)
	}
	cands := make([]*peer, 0, count)
	for i := 0; i < count; i++ {
		c := g.open[(start+i)%n]
		if c != p && !c.gone && len(c.nbrs) < maxPeers && !p.isNeighbor(c) && canLink(p, c) {
			cands = append(cands, c)
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if sa, sb := a.suspect(), b.suspect(); sa != sb {
			return sb
		}
		if ta, tb := tier(&p.loc, &a.loc), tier(&p.loc, &b.loc); ta != tb {
			return ta < tb
		}
		if a.score != b.score {
			return a.score > b.score
		}
		return len(a.nbrs) < len(b.nbrs)
	})
	return cands
}

// canLink reports whether p and c may become neighbors: neither reported
// the other, and the link keeps the invariant that no peer has more than
// one neighbor from any one address other than its own (limitKey), so
// one address with many sockets cannot surround a viewer. Peers behind
// the same address (a campus NAT) may all be neighbors.
func canLink(p, c *peer) bool {
	if apart(p, c) {
		return false
	}
	if c.loc.key == p.loc.key {
		return true
	}
	return !p.hasNeighborAt(c.loc.key) && !c.hasNeighborAt(p.loc.key)
}

// hasNeighborAt reports whether one of p's neighbors is at address key.
func (p *peer) hasNeighborAt(key netip.Addr) bool {
	for _, n := range p.nbrs {
		if n.loc.key == key {
			return true
		}
	}
	return false
}

// updateOpen keeps p in g.open exactly while it uploads and has a free slot.
func (g *group) updateOpen(p *peer, maxPeers int) {
	g.setOpen(p, !p.gone && p.uploads() && len(p.nbrs) < maxPeers)
}

func (g *group) setOpen(p *peer, open bool) {
	switch {
	case open && p.openIdx < 0:
		p.openIdx = int32(len(g.open))
		g.open = append(g.open, p)
	case !open && p.openIdx >= 0:
		i, last := int(p.openIdx), len(g.open)-1
		g.open[i] = g.open[last]
		g.open[i].openIdx = int32(i)
		g.open[last] = nil
		g.open = g.open[:last]
		p.openIdx = -1
	}
}

// broadcastLocked queues b for every peer of the swarm that takes part in
// p2p (policy on or download-only). Caller holds s.mu.
func (s *swarm) broadcastLocked(b []byte) {
	for _, p := range s.peers {
		if p.grp != nil {
			p.send(b)
		}
	}
}
