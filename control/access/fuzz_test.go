package access

import (
	"net/netip"
	"testing"
	"time"

	"github.com/classmesh/classmesh/control/playback"
)

// FuzzCheck feeds arbitrary asset and session ids and tokens (all from the
// request path) to Check. It must not panic, every refusal must carry a
// reason and a detail, and media of private courses is never allowed
// without a token the fuzzer cannot forge: only tokens signed with the
// test key (seeded) may open it.
func FuzzCheck(f *testing.F) {
	good, _ := playback.Sign(testKey, playback.Claims{Scope: playback.CourseScope("priv"), Expiry: testNow.Add(time.Hour)})
	sess, _ := playback.Sign(testKey, playback.Claims{Scope: SessionScope("lpriv"), Expiry: testNow.Add(time.Hour)})
	for _, s := range [][3]string{
		{"closed", "", ""}, {"closed", "", good}, {"", "lpriv", sess}, {"lpriv2-1", "", ""},
		{"open", "", "AAAA"}, {"", "nope", ""}, {"rec-priv", "", sess}, {"x-", "", ""}, {"-1", "", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	p := New(testSnapshot(), Options{Now: func() time.Time { return testNow }})
	signed := map[string]bool{good: true, sess: true}
	f.Fuzz(func(t *testing.T, asset, session, token string) {
		d := p.Check(Request{Asset: asset, Session: session, Token: token, Client: netip.MustParseAddr("192.0.2.1")})
		if !d.Allow && (d.Reason == "" || d.Detail == "") {
			t.Fatalf("refusal without reason: %+v", d)
		}
		if d.Allow && !d.Public && !signed[token] {
			t.Fatalf("private media allowed with token %q: asset %q session %q", token, asset, session)
		}
		if d.Allow && token == "" && !d.Public {
			t.Fatalf("private media allowed without a token: %+v", d)
		}
	})
}
