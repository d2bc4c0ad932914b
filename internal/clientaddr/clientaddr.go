// Package clientaddr holds the one rule for "the same client" that every
// per-address limit counts by (HTTP connection caps, RTMP pending caps, the
// P2P tracker's socket and report budgets): an IPv4 address, or the /64 of
// an IPv6 address, because one IPv6 host usually holds a whole /64 and could
// otherwise take a fresh address for every connection. IPv4-mapped IPv6
// addresses count as the IPv4 address they carry.
package clientaddr

import (
	"net"
	"net/netip"
)

// Key is the prefix that a client at a is counted under: a/32 for IPv4
// (and IPv4-mapped) addresses, the /64 for IPv6. An invalid a gives the
// zero Prefix.
func Key(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 32
	if a.Is6() {
		bits = 64
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

// KeyOf is Key of a connection's remote address ("ip:port"); the zero
// Prefix when a carries no IP (a Unix socket, a test pipe).
func KeyOf(a net.Addr) netip.Prefix {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Prefix{}
	}
	return Key(ap.Addr())
}
