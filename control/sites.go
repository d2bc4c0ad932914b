package control

import (
	"log/slog"
	"net/netip"
	"sort"
	"sync"
)

// SiteView maps client addresses to the catalog's sites (named CIDR sets
// with a P2P policy) for the P2P tracker. It re-reads the sites only when
// a site changed on this replica (Store.Generation of KindSite).
//
// Invariants: nets is sorted longest prefix first, so the first match is
// the most specific; a read error keeps the last table in force.
type SiteView struct {
	store *Store
	log   *slog.Logger

	mu     sync.Mutex
	gen    uint64 // the generation nets was read at
	loaded bool
	nets   []siteNet
}

type siteNet struct {
	prefix netip.Prefix
	name   string
	policy string
}

// NewSiteView returns the site view of store's replica. A nil logger
// discards logs.
func NewSiteView(store *Store, logger *slog.Logger) *SiteView {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &SiteView{store: store, log: logger}
}

// Site returns the site addr belongs to, the most specific network
// winning, and its P2P policy (P2POn, P2POff or P2PDownloadOnly; P2POn
// when the site names none). ok is false when addr is in no site.
func (v *SiteView) Site(addr netip.Addr) (name, policy string, ok bool) {
	addr = addr.Unmap()
	for _, sn := range v.current() {
		if sn.prefix.Contains(addr) {
			return sn.name, sn.policy, true
		}
	}
	return "", "", false
}

func (v *SiteView) current() []siteNet {
	gen := v.store.Generation(KindSite)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.loaded && gen == v.gen {
		return v.nets
	}
	sites, err := v.store.Sites()
	if err != nil {
		v.log.Warn("control: read sites", "err", err)
		return v.nets
	}
	v.nets, v.gen, v.loaded = siteNets(sites), gen, true
	return v.nets
}

func siteNets(sites []Site) []siteNet {
	var out []siteNet
	for _, st := range sites {
		pol := st.P2PPolicy
		if pol == "" {
			pol = P2POn
		}
		for _, c := range st.CIDRs {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				continue // validated on write; skip rather than fail
			}
			out = append(out, siteNet{prefix: p.Masked(), name: st.Name, policy: pol})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].prefix.Bits() > out[j].prefix.Bits() })
	return out
}
