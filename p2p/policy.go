package p2p

import "net/netip"

// Policy is a site's peer-to-peer policy.
type Policy string

// Policies (the same strings as the catalog's site p2p_policy).
const (
	PolicyOn           Policy = "on"
	PolicyOff          Policy = "off"
	PolicyDownloadOnly Policy = "download-only"
)

// Valid reports whether p is one of the three policies.
func (p Policy) Valid() bool {
	return p == PolicyOn || p == PolicyOff || p == PolicyDownloadOnly
}

// Sites maps a client address to its catalog site. ok is false when the
// address is in no site; the tracker then uses Config.DefaultPolicy.
type Sites interface {
	Site(addr netip.Addr) (name string, policy Policy, ok bool)
}
