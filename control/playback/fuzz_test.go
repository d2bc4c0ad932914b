package playback

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzVerify feeds arbitrary token strings to Verify. No input may panic,
// and none may verify unless it is exactly a token Sign produced: the
// fuzzer does not know keyB's secret, so every accepted token must decode
// to a payload that re-encodes to the same string (canonical form).
func FuzzVerify(f *testing.F) {
	c := baseClaims()
	c.Subnet = netip.MustParsePrefix("192.0.2.0/24")
	c.Session = "s1"
	for _, s := range []string{
		mustSign(f, keyA, baseClaims()),
		mustSign(f, keyA, c),
		mustSign(f, keyB, Claims{Expiry: testNow.Add(1), Scope: CourseScope("c1")}),
		"", "AQ", "AQJrMQAAAABpf-ZABWludHJvAAA", strings.Repeat("_", 600),
	} {
		f.Add(s)
	}
	v := fixedVerifier(keyA)
	f.Fuzz(func(t *testing.T, tok string) {
		for _, asset := range []string{"intro", "x"} {
			claims, err := v.Verify(tok, asset, "c1", client4)
			if err == nil && claims.Kid != keyA.Kid {
				t.Fatalf("verified with unknown key: %q", tok)
			}
			if err != nil && Reason(err) == "internal" {
				t.Fatalf("error without reason: %v", err)
			}
		}
		c, _, _, err := decodeToken(tok)
		if err != nil {
			return
		}
		// Canonical: re-signing the decoded claims yields the same payload.
		again := mustSign(t, Key{Kid: c.Kid, Secret: keyB.Secret}, c)
		raw, raw2 := decodeRaw(t, tok), decodeRaw(t, again)
		if string(raw[:len(raw)-tagLen]) != string(raw2[:len(raw2)-tagLen]) {
			t.Fatalf("non-canonical payload accepted: %q vs %q", tok, again)
		}
	})
}

// FuzzParsePath checks that ParsePath never panics and that whatever it
// accepts is a bounded base64url token followed by "/v/" and reassembles
// to the input.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"/t/abc/v/intro/master.m3u8", "/t//v/a", "/t/a=/v/a", "/t/" + strings.Repeat("A", 513) + "/v/a", "/v/x", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		tok, rest, ok := ParsePath(p)
		if !ok {
			if tok != "" || rest != "" {
				t.Fatalf("rejected path returned %q, %q", tok, rest)
			}
			return
		}
		if "/t/"+tok+rest != p {
			t.Fatalf("parts %q + %q do not rebuild %q", tok, rest, p)
		}
		if tok == "" || len(tok) > MaxTokenLen || !base64URL(tok) || strings.ContainsAny(tok, "/=+") {
			t.Fatalf("bad token %q accepted", tok)
		}
		if !strings.HasPrefix(rest, "/v/") || len(rest) < 4 {
			t.Fatalf("bad rest %q accepted", rest)
		}
	})
}
