package playback

import (
	"encoding/base64"
	"errors"
	"net/netip"
	"testing"
)

// TestMappedSubnet reproduces finding 7 of issue 11: a token whose subnet
// is IPv4-mapped (::ffff:10.0.0.0/104) was accepted at signing and never
// matched an IPv4 client. Sign now normalises it to the IPv4 prefix, and a
// token signed with the mapped form (by an older node) is normalised at
// verification.
func TestMappedSubnet(t *testing.T) {
	tests := []struct {
		subnet string
		client string
		ok     bool
	}{
		{"::ffff:10.0.0.0/104", "10.1.2.3", true},
		{"::ffff:10.0.0.0/104", "::ffff:10.1.2.3", true},
		{"::ffff:10.0.0.0/104", "11.0.0.1", false},
		{"::ffff:10.1.2.3/128", "10.1.2.3", true},
		{"::ffff:10.1.2.3/128", "10.1.2.4", false},
		{"::ffff:0.0.0.0/96", "203.0.113.9", true},
	}
	v := fixedVerifier(keyA)
	for _, tt := range tests {
		client := netip.MustParseAddr(tt.client).Unmap() // as the node passes it
		t.Run("sign_"+tt.subnet+"_"+tt.client, func(t *testing.T) {
			c := baseClaims()
			c.Subnet = netip.MustParsePrefix(tt.subnet)
			tok := mustSign(t, keyA, c)
			got, err := v.Verify(tok, "intro", "", client)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err == nil && !got.Subnet.Addr().Is4() {
				t.Errorf("signed subnet %v is not IPv4", got.Subnet)
			}
		})
		t.Run("verify_"+tt.subnet+"_"+tt.client, func(t *testing.T) {
			c := baseClaims()
			c.Subnet = netip.MustParsePrefix(tt.subnet).Masked()
			_, err := v.Verify(signUnnormalised(keyA, c), "intro", "", client)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// signUnnormalised signs c without Sign's normalisation, as a node from before it
// did.
func signUnnormalised(k Key, c Claims) string {
	payload := appendPayload(nil, c)
	return base64.RawURLEncoding.EncodeToString(append(payload, mac(k.Secret, payload)...))
}

func TestNormalizeSubnet(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{"", "", false},
		{"192.0.2.7/24", "192.0.2.0/24", false},
		{"2001:db8::1/32", "2001:db8::/32", false},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8", false},
		{"::ffff:10.1.2.3/128", "10.1.2.3/32", false},
		{"::ffff:10.1.2.3/120", "10.1.2.0/24", false},
		{"::ffff:10.0.0.0/95", "", true},
		{"::ffff:0.0.0.0/64", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var in netip.Prefix
			if tt.in != "" {
				in = netip.MustParsePrefix(tt.in)
			}
			got, err := NormalizeSubnet(in)
			if tt.err {
				if !errors.Is(err, ErrInvalidClaims) {
					t.Fatalf("NormalizeSubnet(%s) = %v, %v; want ErrInvalidClaims", tt.in, got, err)
				}
				c := baseClaims()
				c.Subnet = in
				if _, err := Sign(keyA, c); !errors.Is(err, ErrInvalidClaims) {
					t.Fatalf("Sign with %s: %v, want ErrInvalidClaims", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" && got != (netip.Prefix{}) || tt.want != "" && got != netip.MustParsePrefix(tt.want) {
				t.Fatalf("NormalizeSubnet(%s) = %v, want %s", tt.in, got, tt.want)
			}
		})
	}
}
