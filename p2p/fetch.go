package p2p

import (
	"sort"
	"time"
)

// Fetch coordination bounds.
const (
	maxTrackedSeqs = 256 // fetch states kept per group (oldest evicted)
	maxHolders     = 16  // holders remembered per fetch state
	holderScan     = 512 // members scanned for holders when a state is created
	maxListed      = 8   // peers listed in one peers answer
)

// fetchState is what a group knows about one segment: who was named to
// fetch it over HTTP (until when) and who holds it.
type fetchState struct {
	seq      uint64
	created  time.Time
	fetchers []fetcher
	holders  []*peer
}

type fetcher struct {
	p     *peer
	until time.Time
}

// fetchersFor is k: how many fetchers a group of n peers gets per segment.
func fetchersFor(n int) int {
	switch {
	case n < 16:
		return 1
	case n < 256:
		return 2
	}
	return 3
}

// state returns the fetch state of seq, creating it (and finding current
// holders among a bounded sample of members) when missing.
func (g *group) state(seq uint64, now time.Time) *fetchState {
	if st := g.fetch[seq]; st != nil {
		return st
	}
	if len(g.fetch) >= maxTrackedSeqs {
		var oldest *fetchState
		for _, st := range g.fetch {
			if oldest == nil || st.created.Before(oldest.created) {
				oldest = st
			}
		}
		delete(g.fetch, oldest.seq)
	}
	st := &fetchState{seq: seq, created: now}
	scanned := 0
	for _, m := range g.members {
		if scanned++; scanned > holderScan || len(st.holders) >= maxHolders {
			break
		}
		if m.uploads() && m.ranges.Contains(seq) {
			st.holders = append(st.holders, m)
		}
	}
	g.fetch[seq] = st
	return st
}

// activeFetchers counts fetchers still within their deadline.
func (st *fetchState) activeFetchers(now time.Time) int {
	n := 0
	for _, f := range st.fetchers {
		if !f.p.gone && now.Before(f.until) {
			n++
		}
	}
	return n
}

func (st *fetchState) isFetcher(p *peer, now time.Time) bool {
	for _, f := range st.fetchers {
		if f.p == p && now.Before(f.until) {
			return true
		}
	}
	return false
}

func (st *fetchState) addFetcher(p *peer, now, until time.Time) {
	live := st.fetchers[:0]
	for _, f := range st.fetchers {
		if !f.p.gone && f.p != p && now.Before(f.until) {
			live = append(live, f)
		}
	}
	st.fetchers = append(live, fetcher{p: p, until: until})
}

// addHolder records p as a holder (it is no longer a fetcher).
func (st *fetchState) addHolder(p *peer) {
	for i, f := range st.fetchers {
		if f.p == p {
			st.fetchers = append(st.fetchers[:i], st.fetchers[i+1:]...)
			break
		}
	}
	for i, h := range st.holders {
		if h == p {
			return
		}
		if h.gone {
			st.holders[i] = p
			return
		}
	}
	if len(st.holders) < maxHolders {
		st.holders = append(st.holders, p)
	}
}

func (st *fetchState) removeHolder(p *peer) {
	for i, h := range st.holders {
		if h == p {
			st.holders = append(st.holders[:i], st.holders[i+1:]...)
			return
		}
	}
}

// noteHave updates the group's fetch states after p announced ranges.
func (g *group) noteHave(p *peer) {
	if !p.uploads() {
		return
	}
	for _, st := range g.fetch {
		if p.ranges.Contains(st.seq) {
			st.addHolder(p)
		}
	}
}

// noteLost updates the group's fetch states after p evicted segments.
func (g *group) noteLost(p *peer) {
	for _, st := range g.fetch {
		if !p.ranges.Contains(st.seq) {
			st.removeHolder(p)
		}
	}
}

// answerWant decides the peers reply for p asking for seq. Caller holds
// the swarm lock; p is joined and in a group.
func (g *group) answerWant(p *peer, seq uint64, now time.Time, fetchTimeout time.Duration) (fetch bool, list []*peer) {
	st := g.state(seq, now)
	seen := map[*peer]bool{p: true}
	add := func(c *peer) {
		if len(list) < maxListed && !seen[c] && !c.gone && c.uploads() && !p.blocks(c.id) {
			seen[c] = true
			list = append(list, c)
		}
	}
	// 1. Neighbors holding it, 2. neighbors fetching it.
	for _, n := range p.nbrs {
		if n.ranges.Contains(seq) {
			add(n)
		}
	}
	for _, n := range p.nbrs {
		if st.isFetcher(n, now) {
			add(n)
		}
	}
	nearby := len(list) > 0
	// 3. Other holders, closest and best first; 4. other active fetchers.
	holders := append([]*peer(nil), st.holders...)
	sort.SliceStable(holders, func(i, j int) bool {
		a, b := holders[i], holders[j]
		if sa, sb := a.suspect(), b.suspect(); sa != sb {
			return sb
		}
		if ta, tb := tier(&p.loc, &a.loc), tier(&p.loc, &b.loc); ta != tb {
			return ta < tb
		}
		return a.score > b.score
	})
	for _, h := range holders {
		add(h)
	}
	for _, f := range st.fetchers {
		if now.Before(f.until) {
			add(f.p)
		}
	}
	k := fetchersFor(len(g.members))
	becomeFetcher := len(list) == 0 ||
		(!nearby && p.uploads() && len(st.holders) == 0 && st.activeFetchers(now) < k)
	if becomeFetcher {
		if p.uploads() {
			st.addFetcher(p, now, now.Add(fetchTimeout))
			p.lastFetch = now
		}
		return true, nil
	}
	// Suspects (reports.go) go after every other source, neighbors included.
	sort.SliceStable(list, func(i, j int) bool { return !list[i].suspect() && list[j].suspect() })
	for _, c := range list {
		c.noteAsker(p.id)
	}
	return false, list
}

// chooseFetchers names up to k fetchers for a new live segment: the best
// uploaders, least recently named first among equals. It returns the
// peers newly named.
func (g *group) chooseFetchers(seq uint64, now time.Time, fetchTimeout time.Duration) []*peer {
	st := g.state(seq, now)
	need := fetchersFor(len(g.members)) - st.activeFetchers(now) - len(st.holders)
	if need <= 0 {
		return nil
	}
	best := make([]*peer, 0, need+1)
	better := func(a, b *peer) bool {
		if sa, sb := a.suspect(), b.suspect(); sa != sb {
			return sb
		}
		if a.score != b.score {
			return a.score > b.score
		}
		return a.lastFetch.Before(b.lastFetch)
	}
	for _, m := range g.members {
		if !m.uploads() || m.gone || st.isFetcher(m, now) {
			continue
		}
		i := sort.Search(len(best), func(i int) bool { return better(m, best[i]) })
		if i >= need {
			continue
		}
		best = append(best, nil)
		copy(best[i+1:], best[i:])
		best[i] = m
		if len(best) > need {
			best = best[:need]
		}
	}
	for _, m := range best {
		st.addFetcher(m, now, now.Add(fetchTimeout))
		m.lastFetch = now
	}
	return best
}
