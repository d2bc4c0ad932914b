package clientaddr

import (
	"net"
	"net/netip"
	"testing"
)

func TestKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7/32"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::99", "2001:db8:1:2::/64"},
		{"::1", "::/64"},
	}
	for _, tt := range tests {
		if got := Key(netip.MustParseAddr(tt.in)); got.String() != tt.want {
			t.Errorf("Key(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got := Key(netip.Addr{}); got.IsValid() {
		t.Errorf("Key(invalid) = %s, want the zero Prefix", got)
	}
}

func TestKeyOf(t *testing.T) {
	if got := KeyOf(&net.TCPAddr{IP: net.ParseIP("198.51.100.1"), Port: 1935}); got.String() != "198.51.100.1/32" {
		t.Errorf("KeyOf(tcp) = %s", got)
	}
	if got := KeyOf(&net.UnixAddr{Name: "/tmp/x", Net: "unix"}); got.IsValid() {
		t.Errorf("KeyOf(unix) = %s, want the zero Prefix", got)
	}
}
