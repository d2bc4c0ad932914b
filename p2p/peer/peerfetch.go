package peer

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/classmesh/classmesh/p2p/wire"
)

// peerFetch is one attempt to take a segment from neighbors.
type peerFetch struct {
	p        *Peer
	seq      uint64
	want     wire.Digest // the edge's size and SHA-256
	deadline time.Time
	prefs    []string        // the tracker's order
	tried    map[string]bool // neighbors that said none or closed
	res      Result
	cause    Cause    // why HTTP, when the attempt fails
	part     *partial // a late peer's bytes
}

// partial is the start of a segment from a peer that was too late: the
// rest may be taken over HTTP (a Range request) and the whole verified.
type partial struct {
	from string
	data []byte // unverified
	want wire.Digest
}

// fromPeers asks the tracker and then the neighbors holding seq, in the
// tracker's order first, until one delivers verified bytes or the deadline
// passes. ok false means: take it over HTTP, for the reason cause, and
// part, when not nil, is what a late peer had sent.
func (p *Peer) fromPeers(ctx context.Context, seq uint64, deadline time.Time) (Result, Cause, *partial, bool) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	ans, ok := p.want(ctx, seq)
	if !ok || ans.Fetch || len(ans.Peers) == 0 {
		p.log.Debug("peer: HTTP as told", "seq", seq, "answered", ok, "fetcher", ok && ans.Fetch)
		if ok && ans.Fetch {
			return Result{Seq: seq}, CauseFetcher, nil, false
		}
		return Result{Seq: seq}, CauseNoPeers, nil, false
	}
	want, ok := p.hashes.lookup(ctx, seq)
	if !ok || want.Size > p.cfg.MaxSegmentBytes {
		return Result{Seq: seq}, CauseNoHash, nil, false // never use bytes we cannot verify
	}
	f := &peerFetch{p: p, seq: seq, want: want, deadline: deadline, prefs: ans.Peers,
		tried: make(map[string]bool), res: Result{Seq: seq}, cause: CauseNoNeighbor}
	defer p.setWaiting(seq, time.Time{})
	for ctx.Err() == nil {
		l, ok := f.next(ctx)
		if !ok {
			return f.res, f.cause, nil, false
		}
		if l == nil {
			continue
		}
		if done, ok := f.transfer(ctx, l); done {
			return f.res, f.cause, f.part, ok
		}
	}
	return f.res, f.cause, nil, false
}

// next waits (briefly) for a free neighbor holding the segment. ok false:
// give up for HTTP now, because too little time is left for a transfer to
// bring much (startLead), or no neighbor is left to ask.
func (f *peerFetch) next(ctx context.Context) (l *link, ok bool) {
	p := f.p
	est := p.rate.estimate(f.want.Size)
	wait := time.Until(f.deadline.Add(-startLead(est)))
	if wait <= 0 {
		p.log.Debug("peer: no time left", "seq", f.seq, "estimate", est)
		return nil, false
	}
	changed := p.changedCh()
	p.setWaiting(f.seq, f.deadline)
	if l = p.pickLink(f.seq, f.deadline, f.prefs, f.tried); l != nil {
		p.setWaiting(f.seq, time.Time{})
		return l, true
	}
	if !p.anyUsable(f.tried) {
		return nil, false
	}
	tm := time.NewTimer(min(wait, 500*time.Millisecond))
	defer tm.Stop()
	select {
	case <-changed:
	case <-tm.C:
	case <-ctx.Done():
	}
	return nil, true
}

// transfer gets the segment from l and judges the bytes. done: stop
// trying (ok: verified bytes in f.res).
func (f *peerFetch) transfer(ctx context.Context, l *link) (done, ok bool) {
	p, seq := f.p, f.seq
	t0 := time.Now()
	r := l.get(ctx, seq, f.want.Size)
	took := time.Since(t0)
	p.log.Debug("peer: get", "seq", seq, "from", l.remote, "took", took, "none", r.none, "reason", r.reason)
	switch {
	case r.none:
		f.tried[l.remote] = true
	case r.reason == wire.ReasonTimeout:
		f.cause = CauseTimeout
		p.st.timeouts.Add(1)
		if n := int64(len(r.data)); n > 0 && n < f.want.Size {
			f.part = &partial{from: l.remote, data: r.data, want: f.want}
			return true, false // reported with the bytes it brought (finishTail)
		}
		p.report(seq, wire.SourcePeer, l.remote, 0, false, wire.ReasonTimeout)
		return true, false
	case r.reason == wire.ReasonClosed:
		f.tried[l.remote] = true
		p.st.chClosed.Add(1)
		p.report(seq, wire.SourcePeer, l.remote, 0, false, wire.ReasonClosed)
	case r.reason == wire.ReasonSize:
		f.cause = CauseRejected
		f.res.Rejected++
		p.badPeer(l, seq, 0, wire.ReasonSize)
	case int64(len(r.data)) != f.want.Size || sha256.Sum256(r.data) != f.want.Sum:
		f.cause = CauseRejected
		f.res.Rejected++
		p.badPeer(l, seq, len(r.data), wire.ReasonHash)
	default:
		p.rate.observe(len(r.data), took)
		p.st.bytesPeer.Add(int64(len(r.data)))
		p.st.segsPeer.Add(1)
		p.report(seq, wire.SourcePeer, l.remote, len(r.data), true, "")
		data := p.keep(seq, entry{data: r.data, source: wire.SourcePeer, peer: l.remote}, &f.want.Sum)
		f.res.Data, f.res.Source, f.res.Peer = data, wire.SourcePeer, l.remote
		return true, true
	}
	return false, false
}

// startLead is how long before its deadline a peer transfer may still
// start: twice the expected transfer time (it should finish), but at most
// minPeerTime, because the bytes of a late transfer are kept and only the
// rest is taken over HTTP.
func startLead(est time.Duration) time.Duration {
	return min(2*est, minPeerTime)
}

// pickLink returns an open neighbor that says it holds seq and is not
// busy with another transfer of ours, preferring the tracker's order. A
// link is left to a more urgent waiting fetch that could use it too
// (earliest deadline first).
func (p *Peer) pickLink(seq uint64, deadline time.Time, prefs []string, tried map[string]bool) *link {
	for _, l := range p.openLinks(prefs) {
		if tried[l.remote] || !l.holds(seq) || p.wantedSooner(l, seq, deadline) {
			continue
		}
		select {
		case l.getSlot <- struct{}{}: // free right now?
			<-l.getSlot
			return l
		default:
		}
	}
	return nil
}

// setWaiting records that a fetch of seq waits for a neighbor until
// deadline; a zero deadline removes it.
func (p *Peer) setWaiting(seq uint64, deadline time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if deadline.IsZero() {
		delete(p.waiting, seq)
	} else {
		p.waiting[seq] = deadline
	}
}

// wantedSooner reports whether another waiting fetch with an earlier
// deadline could take its segment from l.
func (p *Peer) wantedSooner(l *link, seq uint64, deadline time.Time) bool {
	p.mu.Lock()
	var sooner []uint64
	for s, d := range p.waiting {
		if s != seq && d.Before(deadline) {
			sooner = append(sooner, s)
		}
	}
	p.mu.Unlock()
	for _, s := range sooner {
		if l.holds(s) {
			return true
		}
	}
	return false
}

// anyUsable reports whether some neighbor (open or still connecting) may
// yet deliver: not bad and not already tried for this segment.
func (p *Peer) anyUsable(tried map[string]bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id := range p.links {
		if !tried[id] && !p.bad[id] {
			return true
		}
	}
	return false
}

// badPeer reports a peer whose bytes failed verification, closes its link
// and never uses it again.
func (p *Peer) badPeer(l *link, seq uint64, n int, reason string) {
	if reason == wire.ReasonHash {
		p.st.rejHash.Add(1)
	} else {
		p.st.rejSize.Add(1)
	}
	p.log.Info("peer: rejected segment from peer", "from", l.remote, "seq", seq, "reason", reason)
	p.report(seq, wire.SourcePeer, l.remote, n, false, reason)
	p.dropPeer(l.remote, true)
}
