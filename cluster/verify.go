package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/classmesh/classmesh/cluster/transport"
	"github.com/quic-go/quic-go"
)

// Member verification: the gossip key lets a process into memberlist, but
// only a cluster certificate makes it a member that gets work.
//
// Invariants:
//   - A member other than self is StateUnverified until this node has dialled
//     the QUIC address in its metadata over mutual TLS and the certificate
//     there chains to the cluster CA and names the member's gossip name.
//   - Members (and so the ring, the remote origin, relay parents, key
//     rollouts and the raft reconciler) never returns an unverified member;
//     AllMembers shows it with StateUnverified.
//   - Proof is bound to one QUIC address: a metadata update that changes
//     the address, a death or a leave drops it, and the member is probed
//     again.
//   - Subscribers see EventJoin for a member once it is verified; while it
//     is unverified they see only EventUpdate (so the ring drops it).
//   - At most one probe loop runs per member and at most verifyParallel
//     probes dial at once, whatever a flood of fake gossip names does.

// VerifyALPN is the ALPN of verification probes. The probe opens no
// stream: the mutual-TLS handshake is the proof. Probes also offer
// KeysALPN, which every version registers, so nodes from before
// verification can still be verified during a rolling upgrade.
const VerifyALPN = "classmesh-verify/1"

// Probe timing: each probe is bounded by verifyTimeout; a member that
// fails is probed again after verifyRetryMin, doubling up to
// verifyRetryMax, for as long as it stays in gossip.
const (
	verifyTimeout  = 5 * time.Second
	verifyRetryMin = 500 * time.Millisecond
	verifyRetryMax = 30 * time.Second
	verifyParallel = 8
	// verifyWarnEvery: a failing member is logged at warn level on its
	// first failure and then once per this many failures.
	verifyWarnEvery = 10
)

// ErrNoQUICAddr is returned when a member advertises no QUIC address and
// so cannot prove its identity.
var ErrNoQUICAddr = errors.New("cluster: member advertises no QUIC address")

// serveVerify is the VerifyALPN handler. Probes open no streams; a stream
// that arrives anyway is closed at once.
func serveVerify(context.Context, transport.PeerInfo, *quic.Stream) {}

// needsVerify decides the state of a member that gossip reports alive and
// whether a probe must start. Call with c.mu held; k is the member's entry
// (its member field already updated).
func (c *Cluster) needsVerify(k *knownMember) bool {
	m := &k.member
	if m.Self {
		m.State = StateAlive
		return false
	}
	if k.verifiedAddr != "" && k.verifiedAddr == m.QUICAddr {
		m.State = StateAlive
		return false
	}
	k.verifiedAddr = ""
	m.State = StateUnverified
	if c.closed || c.verifying[m.ID] {
		return false
	}
	c.verifying[m.ID] = true
	return true
}

// verifyLoop probes member id until it is verified, leaves gossip, or
// the cluster closes.
func (c *Cluster) verifyLoop(id string) {
	defer c.wg.Done()
	delay := verifyRetryMin
	for failures := 0; ; {
		c.mu.Lock()
		k := c.known[id]
		if c.closed || k == nil || k.member.State != StateUnverified {
			delete(c.verifying, id)
			c.mu.Unlock()
			return
		}
		addr := k.member.QUICAddr
		c.mu.Unlock()
		err := c.probe(id, addr)
		if err == nil {
			if c.markVerified(id, addr) {
				c.metrics.verified("ok")
				c.log.Info("cluster: member verified", "node", id, "quic", addr)
			}
			continue // the address may have changed meanwhile: look again
		}
		if c.ctx.Err() != nil {
			continue // closing: the top of the loop exits
		}
		c.metrics.verified("failed")
		if failures%verifyWarnEvery == 0 {
			c.log.Warn("cluster: member has not proved its name with a cluster certificate; it gets no work",
				"node", id, "quic", addr, "attempts", failures+1, "err", err)
		}
		failures++
		select {
		case <-c.ctx.Done():
		case <-time.After(delay):
		}
		delay = min(delay*2, verifyRetryMax)
	}
}

// probe runs one bounded probe, at most verifyParallel at a time.
func (c *Cluster) probe(id, addr string) error {
	if addr == "" {
		return ErrNoQUICAddr
	}
	select {
	case c.probeSlots <- struct{}{}:
	case <-c.ctx.Done():
		return ErrClosed
	}
	defer func() { <-c.probeSlots }()
	ctx, cancel := context.WithTimeout(c.ctx, verifyTimeout)
	defer cancel()
	return c.transport.Probe(ctx, addr, id)
}

// markVerified records that id proved its name at addr and announces it
// to subscribers. It reports false when the member changed meanwhile.
func (c *Cluster) markVerified(id, addr string) bool {
	c.mu.Lock()
	k := c.known[id]
	if c.closed || k == nil || k.member.State != StateUnverified || k.member.QUICAddr != addr {
		c.mu.Unlock()
		return false
	}
	k.verifiedAddr = addr
	k.member.State = StateAlive
	m := k.member
	m.Since = k.since
	c.mu.Unlock()
	c.epoch.Add(1)
	c.events.push(Event{Type: EventJoin, Member: m})
	return true
}
