package playback

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestVerifyReasons(t *testing.T) {
	withSubnet := baseClaims()
	withSubnet.Subnet = netip.MustParsePrefix("192.0.2.0/24")
	course := baseClaims()
	course.Scope = CourseScope("algebra")
	expired := baseClaims()
	expired.Expiry = testNow.Add(-time.Second)
	otherKey := Key{Kid: "k1", Secret: []byte("a-completely-different-secret")}
	future := Key{Kid: "k1", Secret: keyA.Secret, NotBefore: testNow.Add(time.Minute)}
	retired := Key{Kid: "k1", Secret: keyA.Secret, NotAfter: testNow}

	tests := []struct {
		name   string
		keys   []Key
		token  string
		asset  string
		course string
		client netip.Addr
		want   string
	}{
		{"valid asset", []Key{keyA}, mustSign(t, keyA, baseClaims()), "intro", "algebra", client4, ""},
		{"valid course", []Key{keyA}, mustSign(t, keyA, course), "lesson-7", "algebra", client4, ""},
		{"valid subnet", []Key{keyA}, mustSign(t, keyA, withSubnet), "intro", "", client4, ""},
		{"empty", []Key{keyA}, "", "intro", "", client4, "malformed"},
		{"not base64", []Key{keyA}, "not*base64", "intro", "", client4, "malformed"},
		{"too short", []Key{keyA}, "AQJrMQ", "intro", "", client4, "malformed"},
		{"too long", []Key{keyA}, strings.Repeat("A", MaxTokenLen+1), "intro", "", client4, "malformed"},
		{"padded", []Key{keyA}, mustSign(t, keyA, baseClaims()) + "==", "intro", "", client4, "malformed"},
		{"unknown kid", []Key{keyB}, mustSign(t, keyA, baseClaims()), "intro", "", client4, "unknown_kid"},
		{"no keys", nil, mustSign(t, keyA, baseClaims()), "intro", "", client4, "unknown_kid"},
		{"key not yet valid", []Key{future}, mustSign(t, keyA, baseClaims()), "intro", "", client4, "key_inactive"},
		{"key retired", []Key{retired}, mustSign(t, keyA, baseClaims()), "intro", "", client4, "key_inactive"},
		{"other secret", []Key{keyA}, mustSign(t, otherKey, baseClaims()), "intro", "", client4, "bad_signature"},
		{"expired", []Key{keyA}, mustSign(t, keyA, expired), "intro", "", client4, "expired"},
		{"wrong asset", []Key{keyA}, mustSign(t, keyA, baseClaims()), "outro", "algebra", client4, "out_of_scope"},
		{"wrong course", []Key{keyA}, mustSign(t, keyA, course), "lesson-7", "geometry", client4, "out_of_scope"},
		{"course token no course", []Key{keyA}, mustSign(t, keyA, course), "lesson-7", "", client4, "out_of_scope"},
		{"course id as asset", []Key{keyA}, mustSign(t, keyA, course), "course:algebra", "", client4, "out_of_scope"},
		{"wrong subnet", []Key{keyA}, mustSign(t, keyA, withSubnet), "intro", "", netip.MustParseAddr("198.51.100.1"), "wrong_subnet"},
		{"no client", []Key{keyA}, mustSign(t, keyA, withSubnet), "intro", "", netip.Addr{}, "wrong_subnet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := fixedVerifier(tt.keys...).Verify(tt.token, tt.asset, tt.course, tt.client)
			if got := Reason(err); got != tt.want {
				t.Fatalf("Reason = %q (err %v), want %q", got, err, tt.want)
			}
			if tt.want == "" && c.Kid != "k1" {
				t.Fatalf("claims kid = %q, want k1", c.Kid)
			}
			if tt.want != "" && c != (Claims{}) {
				t.Fatalf("claims on error = %+v, want zero", c)
			}
		})
	}
}

func TestVerifyReturnsClaims(t *testing.T) {
	in := Claims{
		Expiry:  testNow.Add(90*time.Minute + 700*time.Millisecond),
		Scope:   CourseScope("algebra"),
		Subnet:  netip.MustParsePrefix("2001:db8:1::77/48"),
		Session: "live-42",
	}
	got, err := fixedVerifier(keyA).Verify(mustSign(t, keyA, in), "a1", "algebra", client6)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := Claims{
		Kid:     "k1",
		Expiry:  testNow.Add(90 * time.Minute),
		Scope:   "course:algebra",
		Subnet:  netip.MustParsePrefix("2001:db8:1::/48"),
		Session: "live-42",
	}
	if got != want {
		t.Fatalf("claims = %+v, want %+v", got, want)
	}
}

func TestRotation(t *testing.T) {
	oldKey := keyA
	oldKey.NotAfter = testNow.Add(time.Hour)
	newKey := keyB
	newKey.NotBefore = testNow.Add(-time.Hour)
	v := fixedVerifier(oldKey, newKey)
	for _, k := range []Key{oldKey, newKey} {
		t.Run(k.Kid, func(t *testing.T) {
			c := baseClaims()
			c.Kid = ""
			c, err := v.Verify(mustSign(t, k, c), "intro", "", client4)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Kid != k.Kid {
				t.Fatalf("kid = %q, want %q", c.Kid, k.Kid)
			}
		})
	}
	t.Run("same kid two secrets", func(t *testing.T) {
		dup := Key{Kid: "k1", Secret: []byte("replacement-secret-for-k1")}
		v := fixedVerifier(keyA, dup)
		for _, k := range []Key{keyA, dup} {
			if _, err := v.Verify(mustSign(t, k, baseClaims()), "intro", "", client4); err != nil {
				t.Fatalf("Verify with %q: %v", k.Secret, err)
			}
		}
	})
}

func TestTamperEveryCharacter(t *testing.T) {
	c := baseClaims()
	c.Subnet = netip.MustParsePrefix("192.0.2.0/24")
	c.Session = "s-1"
	tok := mustSign(t, keyA, c)
	v := fixedVerifier(keyA)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(tok) {
		for _, r := range alphabet {
			if byte(r) == tok[i] {
				continue
			}
			bad := tok[:i] + string(r) + tok[i+1:]
			if _, err := v.Verify(bad, "intro", "", client4); err == nil {
				t.Fatalf("tampered token %q (pos %d) verified", bad, i)
			}
		}
	}
	for _, bad := range []string{tok[:len(tok)-1], tok + "A", tok[1:]} {
		if _, err := v.Verify(bad, "intro", "", client4); err == nil {
			t.Fatalf("truncated/extended token %q verified", bad)
		}
	}
}

func TestTamperEveryBit(t *testing.T) {
	tok := mustSign(t, keyA, baseClaims())
	raw := decodeRaw(t, tok)
	v := fixedVerifier(keyA)
	for i := range raw {
		for bit := range 8 {
			mod := append([]byte(nil), raw...)
			mod[i] ^= 1 << bit
			_, err := v.Verify(encodeRaw(mod), "intro", "", client4)
			if err == nil {
				t.Fatalf("bit %d of byte %d flipped: verified", bit, i)
			}
			if r := Reason(err); r != "malformed" && r != "bad_signature" && r != "unknown_kid" {
				t.Fatalf("byte %d bit %d: reason %q", i, bit, r)
			}
		}
	}
}

func TestSubnet(t *testing.T) {
	tests := []struct {
		subnet string
		client string
		ok     bool
	}{
		{"192.0.2.0/24", "192.0.2.255", true},
		{"192.0.2.0/24", "192.0.3.0", false},
		{"192.0.2.7/32", "192.0.2.7", true},
		{"192.0.2.7/32", "192.0.2.8", false},
		{"0.0.0.0/0", "203.0.113.9", true},
		{"192.0.2.0/24", "::ffff:192.0.2.1", true},
		{"192.0.2.0/24", "2001:db8::1", false},
		{"2001:db8:1::/48", "2001:db8:1:ffff::1", true},
		{"2001:db8:1::/48", "2001:db8:2::1", false},
		{"2001:db8:1::/48", "192.0.2.1", false},
		{"::/0", "2001:db8::1", true},
		{"2001:db8::1/128", "2001:db8::1", true},
	}
	v := fixedVerifier(keyA)
	for _, tt := range tests {
		t.Run(tt.subnet+"_"+tt.client, func(t *testing.T) {
			c := baseClaims()
			c.Subnet = netip.MustParsePrefix(tt.subnet)
			_, err := v.Verify(mustSign(t, keyA, c), "intro", "", netip.MustParseAddr(tt.client))
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrWrongSubnet) {
				t.Fatalf("err = %v, want ErrWrongSubnet", err)
			}
		})
	}
}

func TestClockSkew(t *testing.T) {
	exp := testNow.Add(time.Hour)
	tests := []struct {
		name   string
		now    time.Time
		leeway time.Duration
		key    Key
		want   string
	}{
		{"one ns before expiry", exp.Add(-time.Nanosecond), 0, keyA, ""},
		{"at expiry", exp, 0, keyA, "expired"},
		{"after expiry within leeway", exp.Add(29 * time.Second), 30 * time.Second, keyA, ""},
		{"at expiry plus leeway", exp.Add(30 * time.Second), 30 * time.Second, keyA, "expired"},
		{"at key not-before", testNow, 0, withWindow(testNow, time.Time{}), ""},
		{"before key not-before", testNow.Add(-time.Nanosecond), 0, withWindow(testNow, time.Time{}), "key_inactive"},
		{"before not-before within leeway", testNow.Add(-time.Second), time.Second, withWindow(testNow, time.Time{}), ""},
		{"at key not-after", testNow, 0, withWindow(time.Time{}, testNow), "key_inactive"},
		{"before key not-after", testNow.Add(-time.Nanosecond), 0, withWindow(time.Time{}, testNow), ""},
		{"after not-after within leeway", testNow.Add(time.Second), 2 * time.Second, withWindow(time.Time{}, testNow), ""},
	}
	tok := mustSign(t, keyA, Claims{Expiry: exp, Scope: "intro"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Verifier{
				Keys:   func() []Key { return []Key{tt.key} },
				Now:    func() time.Time { return tt.now },
				Leeway: tt.leeway,
			}
			_, err := v.Verify(tok, "intro", "", client4)
			if got := Reason(err); got != tt.want {
				t.Fatalf("Reason = %q (%v), want %q", got, err, tt.want)
			}
		})
	}
}

// withWindow returns keyA with the given validity window.
func withWindow(nb, na time.Time) Key {
	k := keyA
	k.NotBefore, k.NotAfter = nb, na
	return k
}

func TestZeroVerifier(t *testing.T) {
	_, err := Verifier{}.Verify(mustSign(t, keyA, baseClaims()), "intro", "", client4)
	if !errors.Is(err, ErrUnknownKid) {
		t.Fatalf("err = %v, want ErrUnknownKid", err)
	}
}

func BenchmarkVerify(b *testing.B) {
	c := baseClaims()
	c.Subnet = netip.MustParsePrefix("192.0.2.0/24")
	c.Session = "session-1"
	tok := mustSign(b, keyA, c)
	v := fixedVerifier(keyB, keyA)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(tok, "intro", "", client4); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	c := baseClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Sign(keyA, c); err != nil {
			b.Fatal(err)
		}
	}
}
