package cluster

import (
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// delegate serves this node's metadata to memberlist and receives leave
// notices (membership_leave.go). Key changes travel over the QUIC keys
// protocol, so no other user messages or state are gossiped.
type delegate struct{ c *Cluster }

var _ memberlist.Delegate = (*delegate)(nil)

func (d *delegate) NodeMeta(limit int) []byte {
	d.c.mu.Lock()
	m := d.c.meta
	d.c.mu.Unlock()
	b := encodeMeta(m)
	if len(b) > limit { // cannot happen with the field bounds; be safe
		return b[:0]
	}
	return b
}

// NotifyMsg receives user messages: only leave notices are expected.
func (d *delegate) NotifyMsg(b []byte) {
	id, err := decodeLeaveNotice(b)
	if err != nil {
		d.c.log.Warn("cluster: ignoring a gossip user message", "err", err, "bytes", len(b))
		return
	}
	d.c.leaving.add(id, time.Now())
}

func (d *delegate) GetBroadcasts(int, int) [][]byte     { return nil }
func (d *delegate) LocalState(bool) []byte              { return nil }
func (d *delegate) MergeRemoteState(buf []byte, _ bool) {}

// eventDelegate turns memberlist callbacks into Events. memberlist calls it
// with its own locks held, so it only records and queues.
type eventDelegate struct{ c *Cluster }

var _ memberlist.EventDelegate = (*eventDelegate)(nil)

func (e *eventDelegate) NotifyJoin(n *memberlist.Node)   { e.c.record(EventJoin, n) }
func (e *eventDelegate) NotifyUpdate(n *memberlist.Node) { e.c.record(EventUpdate, n) }

// NotifyLeave cannot use n.State (memberlist keeps the state outside the
// Node it passes), so a graceful leave is recognised by the leave notice
// the node sent directly, or by the leaving flag it gossiped in its
// metadata, just before it left.
func (e *eventDelegate) NotifyLeave(n *memberlist.Node) {
	noticed := e.c.leaving.take(n.Name, time.Now())
	if meta, err := decodeMeta(n.Meta); noticed || err == nil && meta.Leaving {
		e.c.record(EventLeave, n)
		return
	}
	e.c.record(EventFail, n)
}

// record updates the known members, bumps the epoch and queues the event.
// A member gossip reports alive stays StateUnverified, and its join is
// announced as an update, until it proves its name (verify.go).
func (c *Cluster) record(t EventType, n *memberlist.Node) {
	m := c.toMember(n)
	c.mu.Lock()
	k := c.known[m.ID]
	if k == nil {
		k = &knownMember{}
		c.known[m.ID] = k
	}
	k.member, k.since = m, time.Now()
	start := false
	switch t {
	case EventLeave:
		k.member.State, k.verifiedAddr = StateLeft, ""
	case EventFail:
		k.member.State, k.verifiedAddr = StateDead, ""
	default:
		start = c.needsVerify(k)
		if k.member.State == StateUnverified {
			t = EventUpdate
		}
	}
	m = k.member
	if start {
		c.wg.Add(1)
		go c.verifyLoop(m.ID)
	}
	c.mu.Unlock()
	c.epoch.Add(1)
	c.log.Debug("cluster: member "+t.String(), "node", m.ID, "state", m.State, "gossip", m.GossipAddr)
	c.events.push(Event{Type: t, Member: m})
}

// toMember converts a memberlist node, decoding its metadata.
func (c *Cluster) toMember(n *memberlist.Node) Member {
	m := Member{ID: n.Name, GossipAddr: n.Address(), State: stateName(n.State), Self: n.Name == c.id}
	meta, err := decodeMeta(n.Meta)
	if err != nil {
		c.log.Debug("cluster: undecodable metadata", "node", n.Name, "err", err)
		return m
	}
	m.Roles, m.Region, m.HTTPAddr, m.QUICAddr = meta.Roles, meta.Region, meta.HTTPAddr, meta.QUICAddr
	m.Version, m.Load, m.Leaving = meta.Version, meta.Load, meta.Leaving
	return m
}

func stateName(s memberlist.NodeStateType) string {
	switch s {
	case memberlist.StateAlive:
		return StateAlive
	case memberlist.StateSuspect:
		return StateSuspect
	case memberlist.StateLeft:
		return StateLeft
	}
	return StateDead
}

// Self returns this node as a Member.
func (c *Cluster) Self() Member {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := Member{
		ID: c.id, Roles: c.meta.Roles, Region: c.meta.Region, HTTPAddr: c.meta.HTTPAddr,
		QUICAddr: c.meta.QUICAddr, Version: c.meta.Version, Load: c.meta.Load, Leaving: c.meta.Leaving,
		State: StateAlive, Self: true,
	}
	m.GossipAddr = c.gossipAddr
	return m
}

// Members returns the live, verified members, self included, sorted by
// ID: the members that may be given work. It reads
// the copies taken in the event callbacks, never memberlist's node
// pointers (those are mutated without a lock).
func (c *Cluster) Members() []Member {
	self := c.Self()
	out := []Member{self}
	c.mu.Lock()
	for id, k := range c.known {
		if id != self.ID && (k.member.State == StateAlive || k.member.State == StateSuspect) {
			m := k.member
			m.Since = k.since
			out = append(out, m)
		}
	}
	c.mu.Unlock()
	sortMembers(out)
	return out
}

// AllMembers returns Members plus unverified members and members that
// died or left recently.
func (c *Cluster) AllMembers() []Member {
	out := c.Members()
	seen := make(map[string]bool, len(out))
	for _, m := range out {
		seen[m.ID] = true
	}
	c.mu.Lock()
	for id, k := range c.known {
		if seen[id] {
			continue
		}
		if k.member.State != StateUnverified && time.Since(k.since) > forgetAfter {
			delete(c.known, id)
			continue
		}
		if k.member.State == StateDead || k.member.State == StateLeft || k.member.State == StateUnverified {
			m := k.member
			m.Since = k.since
			out = append(out, m)
		}
	}
	c.mu.Unlock()
	sortMembers(out)
	return out
}

// updateMetrics sets classmesh_cluster_members.
func (c *Cluster) updateMetrics() {
	counts := map[string]int{}
	for _, m := range c.AllMembers() {
		counts[m.State]++
	}
	c.metrics.setMembers(counts)
}

// dispatch delivers queued events to subscribers, in order, from one
// goroutine.
func (c *Cluster) dispatch() {
	defer c.wg.Done()
	for {
		ev, ok := c.events.pop()
		if !ok {
			return
		}
		c.mu.Lock()
		subs := make([]EventHandler, 0, len(c.subs))
		for i := 0; i < c.nextSub; i++ {
			if h, ok := c.subs[i]; ok {
				subs = append(subs, h)
			}
		}
		c.mu.Unlock()
		for _, h := range subs {
			h.HandleClusterEvent(ev)
		}
		c.updateMetrics()
	}
}

// eventQueue is an unbounded FIFO so memberlist never blocks on slow
// subscribers.
type eventQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []Event
	closed bool
}

func newEventQueue() *eventQueue {
	q := &eventQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *eventQueue) push(e Event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.items = append(q.items, e)
	q.cond.Signal()
}

// pop blocks for the next event; ok is false once closed.
func (q *eventQueue) pop() (Event, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return Event{}, false
	}
	e := q.items[0]
	q.items[0] = Event{}
	q.items = q.items[1:]
	return e, true
}

func (q *eventQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}
