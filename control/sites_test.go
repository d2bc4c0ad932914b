package control

import (
	"net/netip"
	"testing"
	"time"
)

// TestSiteViewFollowsTheCatalog: the sites come from the catalog and
// change with it; the most specific network wins; IPv4-mapped addresses
// match IPv4 networks.
func TestSiteViewFollowsTheCatalog(t *testing.T) {
	n := newTestNode(t, "n1", true, nil)
	leaderOf(t, n)
	v := NewSiteView(n.store, nil)
	addr := netip.MustParseAddr("10.1.2.3")
	if _, _, ok := v.Site(addr); ok {
		t.Fatal("a site before any was created")
	}
	for _, s := range []Site{
		{Name: "campus", CIDRs: []string{"10.0.0.0/8"}, P2PPolicy: P2POn},
		{Name: "library", CIDRs: []string{"10.1.2.0/24"}, P2PPolicy: P2PDownloadOnly},
		{Name: "lab", CIDRs: []string{"192.168.7.0/24", "fd00::/64"}, P2PPolicy: P2POff},
	} {
		mustCreate(t, n.store, KindSite, s.Name, &s)
	}
	tests := []struct {
		addr, name, policy string
		ok                 bool
	}{
		{"10.1.2.3", "library", P2PDownloadOnly, true},
		{"::ffff:10.1.2.3", "library", P2PDownloadOnly, true},
		{"10.9.9.9", "campus", P2POn, true},
		{"192.168.7.9", "lab", P2POff, true},
		{"fd00::1", "lab", P2POff, true},
		{"172.16.0.1", "", "", false},
	}
	for _, tc := range tests {
		name, pol, ok := v.Site(netip.MustParseAddr(tc.addr))
		if name != tc.name || pol != tc.policy || ok != tc.ok {
			t.Errorf("Site(%s) = %q %q %v, want %q %q %v", tc.addr, name, pol, ok, tc.name, tc.policy, tc.ok)
		}
	}
	if _, err := n.store.Delete(ctxT(t, 10*time.Second), KindSite, "library", 0); err != nil {
		t.Fatal(err)
	}
	if name, _, ok := v.Site(addr); !ok || name != "campus" {
		t.Fatalf("after deleting library: %q %v, want campus", name, ok)
	}
}
