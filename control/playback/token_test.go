package playback

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func decodeRaw(t testing.TB, tok string) []byte {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return raw
}

func encodeRaw(raw []byte) string { return base64.RawURLEncoding.EncodeToString(raw) }

// signRaw appends keyA's tag to an arbitrary payload.
func signRaw(payload []byte) string {
	return encodeRaw(append(append([]byte(nil), payload...), mac(keyA.Secret, payload)...))
}

func TestSignErrors(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name string
		key  Key
		mod  func(*Claims)
		want error
	}{
		{"short secret", Key{Kid: "k1", Secret: []byte("short")}, nil, ErrInvalidKey},
		{"empty key kid", Key{Secret: keyA.Secret}, func(c *Claims) { c.Kid = "" }, ErrInvalidKey},
		{"long key kid", Key{Kid: long(33), Secret: keyA.Secret}, func(c *Claims) { c.Kid = "" }, ErrInvalidKey},
		{"kid mismatch", keyA, func(c *Claims) { c.Kid = "k2" }, ErrInvalidClaims},
		{"empty scope", keyA, func(c *Claims) { c.Scope = "" }, ErrInvalidClaims},
		{"long scope", keyA, func(c *Claims) { c.Scope = long(129) }, ErrInvalidClaims},
		{"scope slash", keyA, func(c *Claims) { c.Scope = "a/b" }, ErrInvalidClaims},
		{"long session", keyA, func(c *Claims) { c.Session = long(65) }, ErrInvalidClaims},
		{"session colon", keyA, func(c *Claims) { c.Session = "a:b" }, ErrInvalidClaims},
		{"zero expiry", keyA, func(c *Claims) { c.Expiry = time.Time{} }, ErrInvalidClaims},
		{"expiry year 10000", keyA, func(c *Claims) { c.Expiry = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, ErrInvalidClaims},
		{"bad subnet", keyA, func(c *Claims) { c.Subnet = netip.PrefixFrom(client4, 33) }, ErrInvalidClaims},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := baseClaims()
			if tt.mod != nil {
				tt.mod(&c)
			}
			tok, err := Sign(tt.key, c)
			if !errors.Is(err, tt.want) || tok != "" {
				t.Fatalf("Sign = %q, %v; want %v", tok, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "playback: ") {
				t.Fatalf("error %q lacks package prefix", err)
			}
		})
	}
}

func TestReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{ErrMalformed, "malformed"},
		{fmt.Errorf("wrapped: %w", ErrUnknownKid), "unknown_kid"},
		{ErrKeyInactive, "key_inactive"},
		{ErrBadSignature, "bad_signature"},
		{ErrExpired, "expired"},
		{ErrOutOfScope, "out_of_scope"},
		{ErrWrongSubnet, "wrong_subnet"},
		{ErrInvalidClaims, "invalid_claims"},
		{ErrInvalidKey, "invalid_key"},
		{errors.New("other"), "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := Reason(tt.err); got != tt.want {
				t.Fatalf("Reason(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestMaxLength(t *testing.T) {
	k := Key{Kid: strings.Repeat("k", MaxKidLen), Secret: keyA.Secret}
	c := Claims{
		Expiry:  time.Unix(maxExpiry, 0),
		Scope:   strings.Repeat("s", MaxScopeLen),
		Subnet:  netip.MustParsePrefix("2001:db8::/32"),
		Session: strings.Repeat("z", MaxSessionLen),
	}
	tok := mustSign(t, k, c)
	if len(tok) > MaxTokenLen {
		t.Fatalf("longest token has %d chars, limit %d", len(tok), MaxTokenLen)
	}
	v := Verifier{Keys: func() []Key { return []Key{k} }, Now: func() time.Time { return testNow }}
	got, err := v.Verify(tok, c.Scope, "", client6)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if got.Session != c.Session || got.Scope != c.Scope || !got.Expiry.Equal(c.Expiry) {
		t.Fatalf("round trip = %+v", got)
	}
}

// TestNonCanonicalPayload checks that correctly tagged but non-canonical or
// out-of-range payloads are rejected as malformed by the decoder.
func TestNonCanonicalPayload(t *testing.T) {
	valid := decodeRaw(t, mustSign(t, keyA, baseClaims()))
	payload := valid[:len(valid)-tagLen]
	// payload layout: 01 02 'k' '1' <8 expiry> 05 "intro" <fam> <sesslen>
	famAt := 1 + 1 + 2 + 8 + 1 + 5
	with := func(edit func(p []byte) []byte) []byte {
		return edit(append([]byte(nil), payload...))
	}
	subnet := func(fam byte, addr []byte, bits byte) []byte {
		return with(func(p []byte) []byte {
			out := append(p[:famAt:famAt], fam)
			out = append(append(out, addr...), bits)
			return append(out, 0)
		})
	}
	tests := []struct {
		name    string
		payload []byte
	}{
		{"version 2", with(func(p []byte) []byte { p[0] = 2; return p })},
		{"trailing byte", with(func(p []byte) []byte { return append(p, 0) })},
		{"truncated", payload[:len(payload)-1]},
		{"zero expiry", with(func(p []byte) []byte { copy(p[4:12], make([]byte, 8)); return p })},
		{"huge expiry", with(func(p []byte) []byte { copy(p[4:12], []byte{0xff, 0, 0, 0, 0, 0, 0, 0}); return p })},
		{"empty kid", with(func(p []byte) []byte { return append([]byte{1, 0}, p[4:]...) })},
		{"unknown family", subnet(5, []byte{1, 2, 3, 4}, 8)},
		{"v4 bits 33", subnet(famV4, []byte{192, 0, 2, 0}, 33)},
		{"v4 unmasked", subnet(famV4, []byte{192, 0, 2, 1}, 24)},
		{"v6 bits 129", subnet(famV6, make([]byte, 16), 129)},
		{"v6 short", subnet(famV6, make([]byte, 4), 0)},
	}
	v := fixedVerifier(keyA)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(signRaw(tt.payload), "intro", "", client4)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
	t.Run("control", func(t *testing.T) {
		if _, err := v.Verify(signRaw(payload), "intro", "", client4); err != nil {
			t.Fatalf("re-tagged valid payload: %v", err)
		}
	})
}

// TestGolden pins the wire format: a change here breaks every token issued.
func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		c    Claims
	}{
		{"asset", Claims{Expiry: time.Unix(1800000000, 0), Scope: "intro"}},
		{"course_v4_session", Claims{
			Expiry: time.Unix(1800000000, 0), Scope: CourseScope("algebra"),
			Subnet: netip.MustParsePrefix("192.0.2.0/24"), Session: "live-1",
		}},
		{"v6", Claims{Expiry: time.Unix(1800000000, 0), Scope: "a", Subnet: netip.MustParsePrefix("2001:db8::/32")}},
	}
	var b strings.Builder
	for _, tc := range cases {
		fmt.Fprintf(&b, "%s %s\n", tc.name, mustSign(t, keyA, tc.c))
	}
	path := filepath.Join("testdata", "tokens.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update): %v", err)
	}
	if got := b.String(); got != string(want) {
		t.Fatalf("tokens changed:\n got:\n%s\nwant:\n%s", got, want)
	}
}
