package p2p

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/classmesh/classmesh/internal/clientaddr"
	"github.com/classmesh/classmesh/p2p/wire"
)

// Locality tiers of a candidate relative to a peer, best first.
const (
	tierSameAddr   = 0 // same public address (same NAT, likely same LAN)
	tierSamePrefix = 1 // same /24 (IPv4) or /48 (IPv6)
	tierGroup      = 2 // same group otherwise (site, region)
)

// locality is what the tracker knows about where a peer is.
type locality struct {
	addr   netip.Addr
	key    netip.Addr   // limitKey(addr): the unit of per-address limits, reports and neighbor diversity
	prefix netip.Prefix // /24 or /48 around addr
	site   string       // "" when in no site
	policy wire.Policy
	group  string // pairing group label (opaque to clients)
}

// clientAddr returns the client's address for r.
func (t *Tracker) clientAddr(r *http.Request) netip.Addr {
	if t.cfg.ClientAddr != nil {
		return t.cfg.ClientAddr(r).Unmap()
	}
	if t.cfg.TrustProxy {
		if a, ok := lastForwarded(r.Header.Values("X-Forwarded-For")); ok {
			return a
		}
	}
	return remoteAddr(r.RemoteAddr)
}

func remoteAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = s
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// lastForwarded returns the right-most valid X-Forwarded-For entry: the
// address the trusted proxy saw.
func lastForwarded(values []string) (netip.Addr, bool) {
	for i := len(values) - 1; i >= 0; i-- {
		parts := strings.Split(values[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			if a, err := netip.ParseAddr(strings.TrimSpace(parts[j])); err == nil {
				return a.Unmap(), true
			}
		}
	}
	return netip.Addr{}, false
}

// prefixOf returns the /24 (IPv4) or /48 (IPv6) containing a.
func prefixOf(a netip.Addr) netip.Prefix {
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

// limitKey is the unit of per-address limits, reports and neighbor
// diversity (internal/clientaddr: IPv4 address, IPv6 /64).
func limitKey(a netip.Addr) netip.Addr { return clientaddr.Key(a).Addr() }

// locate classifies a client address: site and policy from Sites, then the
// pairing group: the site, else the region (CrossGroup), else the prefix.
func (t *Tracker) locate(a netip.Addr) locality {
	l := locality{addr: a, key: limitKey(a), prefix: prefixOf(a), policy: t.cfg.DefaultPolicy}
	if t.cfg.Sites != nil && a.IsValid() {
		if name, pol, ok := t.cfg.Sites.Site(a); ok {
			l.site = name
			if pol.Valid() {
				l.policy = pol
			}
		}
	}
	switch {
	case l.policy == wire.PolicyOff:
		l.group = "off"
	case l.site != "":
		l.group = "site:" + l.site
	case t.cfg.CrossGroup:
		l.group = "region:" + t.cfg.Region
	default:
		l.group = "net:" + l.prefix.String()
	}
	return l
}

// tier returns how close b is to a.
func tier(a, b *locality) int {
	switch {
	case a.addr == b.addr:
		return tierSameAddr
	case a.prefix == b.prefix:
		return tierSamePrefix
	}
	return tierGroup
}
