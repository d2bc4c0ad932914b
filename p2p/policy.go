package p2p

import (
	"net/netip"

	"github.com/classmesh/classmesh/p2p/wire"
)

// Sites maps a client address to its catalog site. ok is false when the
// address is in no site; the tracker then uses Config.DefaultPolicy.
type Sites interface {
	Site(addr netip.Addr) (name string, policy wire.Policy, ok bool)
}
