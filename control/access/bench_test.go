package access

import (
	"testing"
	"time"

	"github.com/classmesh/classmesh/control/playback"
)

// BenchmarkCheck: the cost per media request of the free path and of a
// course token (one HMAC-SHA256).
func BenchmarkCheck(b *testing.B) {
	p := New(testSnapshot(), Options{Now: func() time.Time { return testNow }})
	tok, _ := playback.Sign(testKey, playback.Claims{Scope: playback.CourseScope("priv"), Expiry: testNow.Add(time.Hour)})
	for _, bc := range []struct {
		name string
		req  Request
	}{
		{"free", Request{Asset: "open"}},
		{"course-token", Request{Asset: "closed", Token: tok, Client: client}},
		{"recording-session-scope-miss", Request{Asset: "rec-priv", Token: tok, Client: client}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !p.Check(bc.req).Allow {
					b.Fatal("refused")
				}
			}
		})
	}
}
