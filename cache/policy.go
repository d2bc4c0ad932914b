package cache

// This file implements S3-FIFO (Yang et al., "FIFO queues are all you need
// for cache eviction", SOSP 2023), weighted by object size in bytes. See
// DESIGN.md for why it was chosen over LRU and W-TinyLFU.
//
// Objects enter a small FIFO (10% of the budget). When they reach its head
// they move to the main FIFO if they were hit while in the small queue and
// are otherwise evicted, leaving their key in a ghost FIFO. A key found in
// the ghost queue is inserted straight into the main queue. The main queue is
// a FIFO with 2-bit frequency counters (CLOCK-like reinsertion): an object
// at its head with a non-zero counter is decremented and reinserted.
//
// The policy is not safe for concurrent use; each tier guards it with its
// own mutex.

// maxFreq caps the per-object frequency counter (two bits).
const maxFreq = 3

// smallShare is the share of the budget, in percent, given to the small queue.
const smallShare = 10

// queueID says which queue a node lives in.
type queueID uint8

const (
	queueSmall queueID = 1
	queueMain  queueID = 2
)

// node is one cached object in the policy; it is also a list element.
type node[V any] struct {
	key        string
	size       int64
	freq       uint8
	queue      queueID
	seq        uint64 // insertion order into the current queue
	prev, next *node[V]
	value      V
}

// fifo is an intrusive doubly linked list; head is the oldest node.
type fifo[V any] struct {
	head, tail *node[V]
	bytes      int64
	n          int
}

func (q *fifo[V]) pushBack(n *node[V]) {
	n.prev, n.next = q.tail, nil
	if q.tail != nil {
		q.tail.next = n
	} else {
		q.head = n
	}
	q.tail = n
	q.bytes += n.size
	q.n++
}

func (q *fifo[V]) remove(n *node[V]) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		q.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		q.tail = n.prev
	}
	n.prev, n.next = nil, nil
	q.bytes -= n.size
	q.n--
}

func (q *fifo[V]) popFront() *node[V] {
	n := q.head
	if n != nil {
		q.remove(n)
	}
	return n
}

// s3fifo is a size-weighted S3-FIFO eviction policy holding values of type V.
type s3fifo[V any] struct {
	capacity int64
	smallCap int64
	small    fifo[V]
	main     fifo[V]
	ghost    *ghostQueue
	items    map[string]*node[V]
	seq      uint64
}

// newS3FIFO returns a policy with a budget of capacity bytes.
func newS3FIFO[V any](capacity int64) *s3fifo[V] {
	small := max(capacity*smallShare/100, 1)
	return &s3fifo[V]{
		capacity: capacity,
		smallCap: small,
		ghost:    newGhostQueue(capacity - small),
		items:    make(map[string]*node[V]),
	}
}

// admits reports whether an object of size bytes may enter the policy at
// all: it must fit in the small queue, or it would be evicted at once.
func (p *s3fifo[V]) admits(size int64) bool { return size >= 0 && size <= p.smallCap }

// bytes returns the bytes held by both queues.
func (p *s3fifo[V]) bytes() int64 { return p.small.bytes + p.main.bytes }

// len returns the number of objects held.
func (p *s3fifo[V]) len() int { return len(p.items) }

// get returns the node for key and counts the access.
func (p *s3fifo[V]) get(key string) (*node[V], bool) {
	n, ok := p.items[key]
	if ok && n.freq < maxFreq {
		n.freq++
	}
	return n, ok
}

// peek returns the node for key without counting an access.
func (p *s3fifo[V]) peek(key string) (*node[V], bool) {
	n, ok := p.items[key]
	return n, ok
}

// add inserts key, evicting as needed; evict is called for every evicted
// node after it has left the policy. add reports false, and changes
// nothing, if the object is too large or the key is already present.
func (p *s3fifo[V]) add(key string, size int64, v V, evict func(*node[V])) bool {
	if !p.admits(size) {
		return false
	}
	if _, ok := p.items[key]; ok {
		return false
	}
	for p.bytes()+size > p.capacity {
		if !p.evictOne(evict) {
			break
		}
	}
	n := &node[V]{key: key, size: size, value: v}
	if p.ghost.remove(key) {
		p.push(n, queueMain)
	} else {
		p.push(n, queueSmall)
	}
	p.items[key] = n
	return true
}

// restore appends a node at the tail of queue without evicting; it is used
// to rebuild the policy from a persisted index in seq order.
func (p *s3fifo[V]) restore(key string, size int64, v V, queue queueID, freq uint8) {
	if _, ok := p.items[key]; ok {
		return
	}
	if queue != queueMain {
		queue = queueSmall
	}
	n := &node[V]{key: key, size: size, freq: min(freq, maxFreq), value: v}
	p.push(n, queue)
	p.items[key] = n
}

// shrink evicts until the policy fits its budget (after restore).
func (p *s3fifo[V]) shrink(evict func(*node[V])) {
	for p.bytes() > p.capacity && p.evictOne(evict) {
	}
}

// remove deletes key from the policy without leaving a ghost.
func (p *s3fifo[V]) remove(key string) (*node[V], bool) {
	n, ok := p.items[key]
	if !ok {
		return nil, false
	}
	p.queueOf(n).remove(n)
	delete(p.items, key)
	return n, true
}

// each calls fn for every node, small queue first, each queue oldest first.
func (p *s3fifo[V]) each(fn func(*node[V])) {
	for _, q := range []*fifo[V]{&p.small, &p.main} {
		for n := q.head; n != nil; n = n.next {
			fn(n)
		}
	}
}

func (p *s3fifo[V]) queueOf(n *node[V]) *fifo[V] {
	if n.queue == queueMain {
		return &p.main
	}
	return &p.small
}

func (p *s3fifo[V]) push(n *node[V], q queueID) {
	n.queue = q
	p.seq++
	n.seq = p.seq
	p.queueOf(n).pushBack(n)
}

// evictOne evicts exactly one object; it reports false if the policy is empty.
func (p *s3fifo[V]) evictOne(evict func(*node[V])) bool {
	if p.small.bytes >= p.smallCap || p.main.n == 0 {
		if p.evictSmall(evict) {
			return true
		}
	}
	return p.evictMain(evict)
}

// evictSmall moves accessed objects from the small queue's head to the main
// queue until it evicts one that was not accessed, remembering it as a ghost.
func (p *s3fifo[V]) evictSmall(evict func(*node[V])) bool {
	for n := p.small.popFront(); n != nil; n = p.small.popFront() {
		if n.freq > 0 {
			n.freq = 0
			p.push(n, queueMain)
			continue
		}
		delete(p.items, n.key)
		p.ghost.add(n.key, n.size)
		evict(n)
		return true
	}
	return false
}

// evictMain reinserts objects with a non-zero counter (decrementing it) and
// evicts the first one whose counter is zero.
func (p *s3fifo[V]) evictMain(evict func(*node[V])) bool {
	for n := p.main.popFront(); n != nil; n = p.main.popFront() {
		if n.freq > 0 {
			n.freq--
			p.push(n, queueMain)
			continue
		}
		delete(p.items, n.key)
		evict(n)
		return true
	}
	return false
}

// ghostQueue remembers recently evicted keys (not their bodies) up to a
// byte budget equal to the main queue's.
type ghostQueue struct {
	capacity int64
	bytes    int64
	gen      uint64
	keys     map[string]ghostRef
	order    []ghostItem // FIFO; entries whose gen no longer matches are stale
	head     int
}

type ghostRef struct {
	gen  uint64
	size int64
}

type ghostItem struct {
	key string
	gen uint64
}

func newGhostQueue(capacity int64) *ghostQueue {
	return &ghostQueue{capacity: capacity, keys: make(map[string]ghostRef)}
}

// add remembers key, forgetting the oldest keys beyond the budget.
func (g *ghostQueue) add(key string, size int64) {
	g.remove(key)
	g.gen++
	g.keys[key] = ghostRef{gen: g.gen, size: size}
	g.order = append(g.order, ghostItem{key: key, gen: g.gen})
	g.bytes += size
	for g.bytes > g.capacity && g.head < len(g.order) {
		it := g.order[g.head]
		g.order[g.head] = ghostItem{}
		g.head++
		if ref, ok := g.keys[it.key]; ok && ref.gen == it.gen {
			delete(g.keys, it.key)
			g.bytes -= ref.size
		}
	}
	g.compact()
}

// remove forgets key and reports whether it was remembered.
func (g *ghostQueue) remove(key string) bool {
	ref, ok := g.keys[key]
	if ok {
		delete(g.keys, key)
		g.bytes -= ref.size
	}
	return ok
}

// compact drops consumed and stale entries once they dominate the slice.
func (g *ghostQueue) compact() {
	live := len(g.order) - g.head
	if g.head < 1024 && live < 2*len(g.keys)+1024 {
		return
	}
	kept := g.order[:0]
	for _, it := range g.order[g.head:] {
		if ref, ok := g.keys[it.key]; ok && ref.gen == it.gen {
			kept = append(kept, it)
		}
	}
	clear(g.order[len(kept):])
	g.order = kept
	g.head = 0
}
