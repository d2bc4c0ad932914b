package playback

import (
	"net/netip"
	"testing"
	"time"
)

var (
	testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	keyA    = Key{Kid: "k1", Secret: []byte("0123456789abcdef-secret-A")}
	keyB    = Key{Kid: "k2", Secret: []byte("fedcba9876543210-secret-B")}
)

// fixedVerifier returns a verifier over keys at testNow.
func fixedVerifier(keys ...Key) Verifier {
	return Verifier{
		Keys: func() []Key { return keys },
		Now:  func() time.Time { return testNow },
	}
}

// baseClaims returns claims for asset "intro" valid one hour after testNow.
func baseClaims() Claims {
	return Claims{Kid: "k1", Expiry: testNow.Add(time.Hour), Scope: "intro"}
}

// mustSign signs c with k or fails the test.
func mustSign(t testing.TB, k Key, c Claims) string {
	t.Helper()
	tok, err := Sign(k, c)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

var (
	client4 = netip.MustParseAddr("192.0.2.10")
	client6 = netip.MustParseAddr("2001:db8:1::10")
)
