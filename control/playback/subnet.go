package playback

import (
	"fmt"
	"net/netip"
)

// NormalizeSubnet returns the form of a token subnet that matches the
// clients it names: an IPv4-mapped IPv6 prefix (::ffff:a.b.c.d/n, n >= 96)
// becomes the IPv4 prefix a.b.c.d/(n-96), since the node sees IPv4 clients
// as IPv4 addresses; every prefix is masked. A mapped prefix shorter than
// /96 also covers addresses outside ::ffff:0:0/96 and cannot be expressed
// in IPv4: it is refused with ErrInvalidClaims. The zero prefix (any
// client) stays zero.
func NormalizeSubnet(p netip.Prefix) (netip.Prefix, error) {
	if p == (netip.Prefix{}) {
		return p, nil
	}
	if !p.IsValid() {
		return netip.Prefix{}, fmt.Errorf("%w: subnet %v", ErrInvalidClaims, p)
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("%w: subnet %v: an IPv4-mapped prefix needs at least /96 (write it as an IPv4 prefix)", ErrInvalidClaims, p)
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}
