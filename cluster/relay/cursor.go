package relay

import "time"

// Reasons a cursor abandons a group (groups_cancelled_total and
// objects_dropped_total labels).
const (
	leaveComplete   = ""           // the group ended and was fully delivered
	leaveSuperseded = "superseded" // skipped by a jump to the newest group
	leaveTimeout    = "timeout"    // the next object waited > DeliveryTimeout
	leaveEvicted    = "evicted"    // the cache dropped the rest of the group
	leaveReset      = "reset"      // the subscriber's stream for it failed
)

// relayCursor is one subscriber's position in a hub. It implements the
// delivery policy (RELAY.md): a late joiner starts at the newest complete
// group; groups are then delivered in order, except that a group is
// abandoned when its next object waited longer than the delivery timeout
// or when the cache evicted it. After abandoning, the cursor jumps to the
// start of the newest group (or waits for the next one); the groups in
// between are skipped as superseded.
//
// Methods other than newRelayCursor are called with h.mu held.
type relayCursor struct {
	h       *relayHub
	timeout time.Duration
	joined  time.Time

	g        *relayGroup // current group, nil between groups
	idx      int         // next absolute entry index in g
	sent     int         // entries of g delivered
	after    uint64      // id of the last group left (or skipped)
	hasAfter bool        // false: any group is next
	jump     bool        // after an abandon: go to the newest group
}

// relayStep is the result of relayCursor.next.
type relayStep struct {
	ok    bool // entry is the next thing to deliver
	entry relayEntry
	group *relayGroup
	first bool // entry is the first delivered of group
	// left is the group, with entries delivered, that the cursor left
	// during this call; reason is leaveComplete or why it was abandoned.
	left   *relayGroup
	reason string
	wait   <-chan struct{} // !ok and err == nil: closed on the next change
	err    error           // the track ended and everything was delivered
}

// newRelayCursor positions a new subscriber: at the newest complete
// group (then the current one), at the current group when it is the only
// one, or at the first group to come when the track has none yet.
func newRelayCursor(h *relayHub, timeout time.Duration, joined time.Time) relayCursor {
	c := relayCursor{h: h, timeout: timeout, joined: joined}
	h.mu.Lock()
	defer h.mu.Unlock()
	gs := h.groups
	switch n := len(gs); {
	case n >= 2 && gs[n-2].base == 0:
		c.g, c.idx = gs[n-2], 0
	case n >= 1 && gs[n-1].base == 0:
		c.g, c.idx = gs[n-1], 0
	case n >= 1:
		c.after, c.hasAfter, c.jump = gs[n-1].id, true, true
	}
	return c
}

// fresh reports whether the cursor has not entered any group yet.
func (c *relayCursor) fresh() bool { return c.g == nil && !c.hasAfter }

// next returns what to deliver now, or what to wait for.
func (c *relayCursor) next(now time.Time) relayStep {
	var st relayStep
	for {
		if c.g == nil {
			if c.g = c.pick(); c.g == nil {
				if c.h.err != nil {
					st.err = c.h.err
				} else {
					st.wait = c.h.changed
				}
				return st
			}
			c.idx, c.sent = c.g.base, 0
		}
		g := c.g
		if reason := c.staleLocked(g); reason != "" {
			c.leave(&st, reason)
			continue
		}
		if c.idx < g.end() {
			e := g.entries[c.idx-g.base]
			if c.waited(e, now) {
				c.leave(&st, leaveTimeout)
				continue
			}
			c.idx++
			c.sent++
			st.ok, st.entry, st.group, st.first = true, e, g, c.sent == 1
			return st
		}
		if g.done && (c.h.newerLocked(g) > 0 || c.h.err != nil) {
			c.leave(&st, leaveComplete)
			continue
		}
		if nx := c.h.nextLocked(g); nx != nil && len(nx.entries) > 0 && c.waited(nx.entries[0], now) {
			c.leave(&st, leaveTimeout) // g never ends while newer data ages
			continue
		}
		if c.h.err != nil {
			st.err = c.h.err
			return st
		}
		st.wait = c.h.changed
		return st
	}
}

// waited reports whether e has waited for this subscriber longer than
// the delivery timeout (since it arrived, or since the subscriber joined).
func (c *relayCursor) waited(e relayEntry, now time.Time) bool {
	since := e.at
	if c.joined.After(since) {
		since = c.joined
	}
	return now.Sub(since) > c.timeout
}

// abandon leaves the current group for reason (a failed write).
func (c *relayCursor) abandon(reason string) {
	if c.g != nil {
		var st relayStep
		c.leave(&st, reason)
	}
}

// staleLocked says why g must be abandoned now, or "".
func (c *relayCursor) staleLocked(g *relayGroup) string {
	if g.evicted || c.idx < g.base {
		return leaveEvicted
	}
	return ""
}

// leave moves off the current group, counting what is dropped.
func (c *relayCursor) leave(st *relayStep, reason string) {
	g := c.g
	if reason != leaveComplete {
		c.h.m.cancelled.WithLabelValues(reason).Inc()
		if left := g.end() - max(c.idx, g.base); left > 0 {
			c.h.m.dropped.WithLabelValues(reason).Add(float64(left))
		}
	}
	if c.sent > 0 && st.left == nil {
		st.left, st.reason = g, reason
	}
	c.after, c.hasAfter, c.g, c.sent = g.id, true, nil, 0
	c.jump = reason != leaveComplete
}

// pick chooses the next group to enter, or nil to wait.
func (c *relayCursor) pick() *relayGroup {
	gs := c.h.groups
	if len(gs) == 0 {
		return nil
	}
	if newest := gs[len(gs)-1]; c.jump {
		var target *relayGroup
		if newest.id > c.after && newest.base == 0 {
			target = newest
		}
		for _, g := range gs {
			if g.id > c.after && g != target {
				c.h.m.cancelled.WithLabelValues(leaveSuperseded).Inc()
				c.h.m.dropped.WithLabelValues(leaveSuperseded).Add(float64(len(g.entries)))
			}
		}
		c.after = max(c.after, newest.id)
		c.jump = target == nil
		return target
	}
	for _, g := range gs {
		if !c.hasAfter || g.id > c.after {
			if g.base > 0 {
				c.jump, c.hasAfter = true, true
				return c.pick()
			}
			return g
		}
	}
	return nil
}
