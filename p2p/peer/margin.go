package peer

import "time"

// minPeerTime is the least time before its deadline for which a
// segment is still worth asking peers for: whatever a late peer has sent
// by then is kept and only the rest is taken over HTTP (finishTail).
const minPeerTime = time.Second

// window is where peers are tried for one segment: at least lo ahead of
// the playhead, and finished over HTTP when margin is left.
type window struct {
	lo, margin time.Duration
}

// effectiveWindow is the tracker's window as this peer uses it. The
// margin is the tracker's http_margin_s unchanged (it is sized for thin
// and busy links; a smaller margin measured from fast HTTP fetches caused
// stalls on a loaded machine). The low edge drops to margin + minPeerTime
// when that is lower: a Go peer keeps a late peer's bytes, so even a
// short attempt saves edge bytes, where a client that discards them (the
// browser) gains nothing from it.
func effectiveWindow(lo, margin time.Duration) window {
	return window{lo: max(0, min(lo, margin+minPeerTime)), margin: margin}
}

// PeerWindow is where this peer tries peers for segment seq: segments due
// at least lo ahead of the playhead; a transfer still running when margin
// is left is finished over HTTP (effectiveWindow).
func (p *Peer) PeerWindow(seq uint64) (lo, margin time.Duration) {
	p.mu.Lock()
	cc := p.ccfg
	p.mu.Unlock()
	w := p.window(seq, cc)
	return w.lo, w.margin
}
