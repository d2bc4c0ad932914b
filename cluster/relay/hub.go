package relay

import (
	"bytes"
	"slices"
	"sync"
	"time"
)

// relayInit is one version of a track's init data; pointer identity is
// the version.
type relayInit struct{ b []byte }

// relayEntry is one cached object or, with init set, an init change in
// the middle of a group.
type relayEntry struct {
	obj  Object
	init *relayInit
	at   time.Time // arrival at this node
}

func (e *relayEntry) size() int {
	if e.init != nil {
		return len(e.init.b)
	}
	return len(e.obj.Header) + len(e.obj.Payload)
}

// relayGroup is one cached group. Entries may be trimmed from the front
// (base counts them) when a single group outgrows the byte budget.
type relayGroup struct {
	id      uint64
	init    *relayInit // in effect at the group's start
	base    int
	entries []relayEntry
	objects int // object entries ever appended
	lastID  uint64
	bytes   int64
	done    bool // no more entries will come
	evicted bool // dropped from the cache
}

func (g *relayGroup) end() int { return g.base + len(g.entries) }

// relayHub is the state of one track on one node: the latest init, the
// cached groups and the subscriber count. Appending never blocks: every
// subscriber reads the cache through its own cursor and is told about
// changes by closing the changed channel.
type relayHub struct {
	track  string
	cfg    *RelayConfig
	m      *relayMetrics
	remote bool // fed by an upstream subscription, not a local publisher

	mu      sync.Mutex
	init    *relayInit
	groups  []*relayGroup // ascending id
	bytes   int64
	changed chan struct{}
	err     error // set once when the track ends

	// Guarded by Relay.mu.
	subs     int
	up       *relayUpstream
	ready    chan struct{} // remote hubs: closed once connected or failed
	readyErr error
}

func newRelayHub(track string, cfg *RelayConfig, m *relayMetrics, remote bool) *relayHub {
	return &relayHub{track: track, cfg: cfg, m: m, remote: remote, changed: make(chan struct{})}
}

// signalLocked wakes every waiting cursor.
func (h *relayHub) signalLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
}

func (h *relayHub) newestLocked() *relayGroup {
	if len(h.groups) == 0 {
		return nil
	}
	return h.groups[len(h.groups)-1]
}

// newerLocked counts cached groups newer than g.
func (h *relayHub) newerLocked(g *relayGroup) int {
	n := 0
	for i := len(h.groups) - 1; i >= 0 && h.groups[i].id > g.id; i-- {
		n++
	}
	return n
}

// nextLocked returns the cached group after g, or nil.
func (h *relayHub) nextLocked(g *relayGroup) *relayGroup {
	for _, x := range h.groups {
		if x.id > g.id {
			return x
		}
	}
	return nil
}

// internLocked returns the init version for b, reusing the latest one or
// prev when the bytes are the same, so subscribers see no change.
func (h *relayHub) internLocked(b []byte, prev *relayInit) *relayInit {
	for _, in := range []*relayInit{prev, h.init} {
		if in != nil && bytes.Equal(in.b, b) {
			return in
		}
	}
	return &relayInit{b: b}
}

// end ends the track with err; cursors deliver what is cached, then err.
func (h *relayHub) end(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		return
	}
	h.err = err
	for _, g := range h.groups {
		g.done = true
	}
	h.signalLocked()
}

// publishInit sets the latest init (publisher side). In the middle of a
// group it becomes an entry, so it reaches subscribers in order.
func (h *relayHub) publishInit(b []byte, at time.Time) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		return "ended"
	}
	if len(b) > h.cfg.MaxPayload {
		return "too_large"
	}
	g := h.newestLocked()
	if g != nil && g.done {
		g = nil
	}
	return h.initLocked(g, b, at)
}

// publishObject appends o (publisher side). A higher group starts a new
// group and completes the older ones; a lower group is stale.
func (h *relayHub) publishObject(o Object, at time.Time) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		return "ended"
	}
	g := h.newestLocked()
	switch {
	case g == nil || o.Group > g.id:
		for _, old := range h.groups {
			old.done = true
		}
		g = &relayGroup{id: o.Group, init: h.init}
		h.groups = append(h.groups, g)
		h.evictLocked()
	case o.Group < g.id || g.done:
		return "stale"
	}
	return h.objectLocked(g, o, at)
}

// openGroup returns the group id for data arriving from upstream,
// inserting it in order; groups older than the whole cache are stale.
func (h *relayHub) openGroup(id uint64) (*relayGroup, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err != nil {
		return nil, "ended"
	}
	i, found := slices.BinarySearchFunc(h.groups, id, func(g *relayGroup, id uint64) int {
		switch {
		case g.id < id:
			return -1
		case g.id > id:
			return 1
		}
		return 0
	})
	if found {
		return nil, "duplicate"
	}
	if i == 0 && len(h.groups) >= h.cfg.CacheGroups {
		return nil, "stale"
	}
	g := &relayGroup{id: id}
	h.groups = slices.Insert(h.groups, i, g)
	h.evictLocked()
	h.signalLocked()
	return g, ""
}

// groupInit records init data received in group g from upstream.
func (h *relayHub) groupInit(g *relayGroup, b []byte, at time.Time) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if reason := h.usableLocked(g); reason != "" {
		return reason
	}
	return h.initLocked(g, b, at)
}

// groupObject appends o, received from upstream, to g.
func (h *relayHub) groupObject(g *relayGroup, o Object, at time.Time) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if reason := h.usableLocked(g); reason != "" {
		return reason
	}
	return h.objectLocked(g, o, at)
}

// closeGroup marks g complete (its stream ended).
func (h *relayHub) closeGroup(g *relayGroup) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !g.done {
		g.done = true
		h.signalLocked()
	}
}

func (h *relayHub) usableLocked(g *relayGroup) string {
	switch {
	case h.err != nil:
		return "ended"
	case g.evicted:
		return "evicted"
	case g.done:
		return "stale"
	}
	return ""
}

// initLocked applies init data: it starts g when g has no entries yet,
// else it is an entry of g. It becomes the latest init unless g is older
// than the newest group.
func (h *relayHub) initLocked(g *relayGroup, b []byte, at time.Time) string {
	newest := g == nil || g == h.newestLocked()
	var prev *relayInit
	if g != nil {
		prev = g.init
	}
	in := h.internLocked(b, prev)
	switch {
	case g == nil:
	case len(g.entries) == 0 && g.base == 0:
		g.init = in
	case in != h.lastInitLocked(g):
		h.appendLocked(g, relayEntry{init: in, at: at})
	}
	if newest && in != h.init {
		h.init = in
	}
	h.signalLocked()
	return ""
}

// lastInitLocked returns the init in effect at the end of g.
func (h *relayHub) lastInitLocked(g *relayGroup) *relayInit {
	for i := len(g.entries) - 1; i >= 0; i-- {
		if g.entries[i].init != nil {
			return g.entries[i].init
		}
	}
	return g.init
}

func (h *relayHub) objectLocked(g *relayGroup, o Object, at time.Time) string {
	switch {
	case len(o.Header) > RelayMaxHeader || len(o.Payload) > h.cfg.MaxPayload:
		return "too_large"
	case g.objects > 0 && o.ID <= g.lastID:
		return "duplicate"
	}
	o.Track, o.Group, o.Init = h.track, g.id, false
	g.objects++
	g.lastID = o.ID
	h.appendLocked(g, relayEntry{obj: o, at: at})
	h.signalLocked()
	return ""
}

// appendLocked adds e to g and enforces the byte budget.
func (h *relayHub) appendLocked(g *relayGroup, e relayEntry) {
	n := int64(e.size())
	g.entries = append(g.entries, e)
	g.bytes += n
	h.bytes += n
	h.evictLocked()
}

// evictLocked drops the oldest groups beyond CacheGroups or the byte
// budget; a lone group over budget loses its oldest entries instead.
func (h *relayHub) evictLocked() {
	for len(h.groups) > h.cfg.CacheGroups || (h.bytes > h.cfg.CacheBytes && len(h.groups) > 1) {
		g := h.groups[0]
		g.evicted, g.done = true, true
		h.bytes -= g.bytes
		h.groups[0] = nil
		h.groups = h.groups[1:]
	}
	if len(h.groups) != 1 {
		return
	}
	g := h.groups[0]
	for h.bytes > h.cfg.CacheBytes && len(g.entries) > 1 {
		n := int64(g.entries[0].size())
		g.entries[0] = relayEntry{}
		g.entries = g.entries[1:]
		g.base++
		g.bytes -= n
		h.bytes -= n
	}
}
