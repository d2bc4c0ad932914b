package ring

import (
	"errors"
	"fmt"
	"github.com/classmesh/classmesh/cluster"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// DefaultLoadEpsilon is the default bounded-load slack: a member whose load
// exceeds (1+DefaultLoadEpsilon) times the average is skipped.
const DefaultLoadEpsilon = 0.25

// ErrBadRingConfig is wrapped by RingConfig.Validate errors.
var ErrBadRingConfig = errors.New("cluster: bad ring config")

// RingConfig tunes owner selection.
type RingConfig struct {
	// LoadEpsilon is the bounded-load slack ε: an edge member whose load
	// (Load.EgressBPS / Load.CapacityBPS) exceeds (1+ε) times the average
	// load of the candidates is passed over in favour of the next member in
	// rendezvous order. Members that report no capacity have no load and
	// are never skipped. 0 means DefaultLoadEpsilon; a negative value
	// disables bounded load.
	LoadEpsilon float64
}

// DefaultRingConfig returns a RingConfig with every default spelled out.
func DefaultRingConfig() RingConfig {
	return RingConfig{LoadEpsilon: DefaultLoadEpsilon}
}

// Validate reports whether the configuration is usable.
func (c RingConfig) Validate() error {
	if c.LoadEpsilon != c.LoadEpsilon { // NaN
		return fmt.Errorf("%w: LoadEpsilon is NaN", ErrBadRingConfig)
	}
	return nil
}

func (c RingConfig) epsilon() float64 {
	if c.LoadEpsilon == 0 {
		return DefaultLoadEpsilon
	}
	return c.LoadEpsilon
}

// ringNode is one candidate edge member with its precomputed hash and load.
type ringNode struct {
	m          cluster.Member
	h          uint64  // mix64(fnv1a(ID))
	load       float64 // EgressBPS/CapacityBPS, 0 when capacity is unknown
	overloaded bool
}

// ringGroup is a set of candidates among which rendezvous hashing chooses.
type ringGroup []ringNode

// Ring chooses the owner of a content key among the live edge members of
// one membership view. It is immutable and safe for concurrent use.
//
// Owner selection is rendezvous (highest random weight) hashing: every
// candidate gets the score mix64(hash(key) ^ hash(member ID)) and the
// highest score wins, so every node holding the same member view picks the
// same owner, and removing a member moves only the keys it owned. Hashes
// are FNV-1a 64 followed by the splitmix64 finalizer, stable across
// processes and architectures.
//
// Region preference: when the requested region has at least one live edge
// member, only those members are candidates; otherwise every live edge
// member is.
//
// Bounded load: within the candidates, a member whose load exceeds (1+ε)
// times their average load is skipped in favour of the next member in
// rendezvous order. Loads are taken from the member view when the Ring is
// built. If every candidate is overloaded (impossible unless ε < 0 is
// forced), the plain rendezvous winner is used: the ring never refuses.
type Ring struct {
	epoch    uint64
	self     cluster.Member
	all      ringGroup
	byRegion map[string]ringGroup
}

// NewRing builds a Ring with DefaultRingConfig from a membership view.
// Members that are not edges, not live or Leaving are ignored; self is included
// when it is an edge and not already listed.
func NewRing(self cluster.Member, members []cluster.Member, epoch uint64) *Ring {
	return NewRingWithConfig(DefaultRingConfig(), self, members, epoch)
}

// NewRingWithConfig is NewRing with an explicit configuration.
func NewRingWithConfig(cfg RingConfig, self cluster.Member, members []cluster.Member, epoch uint64) *Ring {
	r := &Ring{epoch: epoch, self: self, byRegion: make(map[string]ringGroup)}
	seen := make(map[string]bool, len(members)+1)
	add := func(m cluster.Member) {
		if m.ID == "" || seen[m.ID] || !m.Has(cluster.RoleEdge) || !m.Live() {
			return
		}
		seen[m.ID] = true
		n := ringNode{m: m, h: mix64(fnv1a(m.ID))}
		if m.Load.CapacityBPS > 0 {
			n.load = float64(m.Load.EgressBPS) / float64(m.Load.CapacityBPS)
		}
		r.all = append(r.all, n)
	}
	for _, m := range members {
		add(m)
	}
	add(self)
	slices.SortFunc(r.all, func(a, b ringNode) int { return strings.Compare(a.m.ID, b.m.ID) })
	for _, n := range r.all {
		r.byRegion[n.m.Region] = append(r.byRegion[n.m.Region], n)
	}
	eps := cfg.epsilon()
	markOverloaded(r.all, eps)
	for reg, g := range r.byRegion {
		markOverloaded(g, eps)
		r.byRegion[reg] = g
	}
	return r
}

// markOverloaded flags the members of g whose load exceeds (1+eps) times
// the average load of g. A negative eps disables the bound.
func markOverloaded(g ringGroup, eps float64) {
	if eps < 0 || len(g) < 2 {
		return
	}
	var sum float64
	for _, n := range g {
		sum += n.load
	}
	avg := sum / float64(len(g))
	if avg <= 0 {
		return
	}
	limit := (1 + eps) * avg
	for i := range g {
		g[i].overloaded = g[i].load > limit
	}
}

// Epoch returns the membership epoch the ring was built from.
func (r *Ring) Epoch() uint64 { return r.epoch }

// Self returns the local member the ring was built with.
func (r *Ring) Self() cluster.Member { return r.self }

// Len returns the number of candidate edge members.
func (r *Ring) Len() int { return len(r.all) }

// Members returns the candidate edge members sorted by ID.
func (r *Ring) Members() []cluster.Member {
	out := make([]cluster.Member, len(r.all))
	for i, n := range r.all {
		out[i] = n.m
	}
	return out
}

// group returns the candidates for region.
func (r *Ring) group(region string) ringGroup {
	if g := r.byRegion[region]; region != "" && len(g) > 0 {
		return g
	}
	return r.all
}

// Owner returns the member that owns key for a request served in region,
// and false when the ring has no edge member at all.
func (r *Ring) Owner(key string, region string) (cluster.Member, bool) {
	g := r.group(region)
	if len(g) == 0 {
		return cluster.Member{}, false
	}
	hk := mix64(fnv1a(key))
	best, bestAny := -1, -1
	var bestScore, bestAnyScore uint64
	for i := range g {
		s := mix64(hk ^ g[i].h)
		if bestAny < 0 || s > bestAnyScore {
			bestAny, bestAnyScore = i, s
		}
		if !g[i].overloaded && (best < 0 || s > bestScore) {
			best, bestScore = i, s
		}
	}
	if best < 0 {
		best = bestAny
	}
	return g[best].m, true
}

// IsOwner reports whether self owns key for region.
func (r *Ring) IsOwner(key string, region string) bool {
	m, ok := r.Owner(key, region)
	return ok && m.ID == r.self.ID
}

// Owners returns up to n members in fallback order for key: the owner
// first, then the other candidates of the region by decreasing score
// (members within the load bound before overloaded ones), then the members
// of other regions in the same order. n <= 0 means all.
func (r *Ring) Owners(key string, region string, n int) []cluster.Member {
	if n <= 0 || n > len(r.all) {
		n = len(r.all)
	}
	hk := mix64(fnv1a(key))
	out := make([]cluster.Member, 0, n)
	g := r.group(region)
	out = appendRanked(out, g, hk, nil, n)
	if len(out) < n && len(g) < len(r.all) {
		in := make(map[string]bool, len(g))
		for _, x := range g {
			in[x.m.ID] = true
		}
		out = appendRanked(out, r.all, hk, in, n)
	}
	return out
}

// appendRanked appends the members of g not in skip, ranked by rendezvous
// score with overloaded members last, until out holds n members.
func appendRanked(out []cluster.Member, g ringGroup, hk uint64, skip map[string]bool, n int) []cluster.Member {
	type scored struct {
		i     int
		s     uint64
		heavy bool
	}
	sc := make([]scored, 0, len(g))
	for i := range g {
		if skip[g[i].m.ID] {
			continue
		}
		sc = append(sc, scored{i, mix64(hk ^ g[i].h), g[i].overloaded})
	}
	slices.SortFunc(sc, func(a, b scored) int {
		if a.heavy != b.heavy {
			if a.heavy {
				return 1
			}
			return -1
		}
		switch {
		case a.s > b.s:
			return -1
		case a.s < b.s:
			return 1
		}
		return 0
	})
	for _, x := range sc {
		if len(out) >= n {
			break
		}
		out = append(out, g[x.i].m)
	}
	return out
}

// fnv1a is the 64-bit FNV-1a hash of s.
func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// mix64 is the splitmix64 finalizer: a bijection with full avalanche.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// MemberSource supplies membership views; *Cluster implements it.
type MemberSource interface {
	Members() []cluster.Member
	Self() cluster.Member
	Epoch() uint64
}

// RingKeeper holds the current Ring and rebuilds it on every cluster event.
// Subscribe it with Cluster.Subscribe. Ring is lock-free for readers.
type RingKeeper struct {
	src  MemberSource
	cfg  RingConfig
	mu   sync.Mutex // serialises rebuilds
	ring atomic.Pointer[Ring]
}

var _ cluster.EventHandler = (*RingKeeper)(nil)

// NewRingKeeper builds the first Ring from src.
func NewRingKeeper(src MemberSource, cfg RingConfig) *RingKeeper {
	k := &RingKeeper{src: src, cfg: cfg}
	k.Rebuild()
	return k
}

// Ring returns the current ring; never nil.
func (k *RingKeeper) Ring() *Ring { return k.ring.Load() }

// Rebuild rebuilds the ring from the member source now.
func (k *RingKeeper) Rebuild() *Ring {
	k.mu.Lock()
	defer k.mu.Unlock()
	r := NewRingWithConfig(k.cfg, k.src.Self(), k.src.Members(), k.src.Epoch())
	k.ring.Store(r)
	return r
}

// HandleClusterEvent rebuilds the ring; it implements EventHandler.
func (k *RingKeeper) HandleClusterEvent(cluster.Event) { k.Rebuild() }
