package access

import (
	"net/netip"
	"testing"
	"time"

	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/control/playback"
)

var (
	testNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	testKey = playback.Key{Kid: "k1", Secret: []byte("0123456789abcdef-secret")}
	client  = netip.MustParseAddr("192.0.2.10")
)

// testSnapshot is a small catalog:
//
//	courses: pub (public), priv (private), enr (enrolled)
//	lessons: open → pub, closed → priv, shared → pub and priv,
//	         closed2 → enr
//	assets: open, closed, shared, closed2, orphan (in no lesson),
//	        owned (owned by priv, in no lesson)
//	sessions: lpub (pub, recording rec-pub), lpriv (priv, recording
//	          rec-priv), lpriv2 (priv, no recording yet)
func testSnapshot() Snapshot {
	return Snapshot{
		Index: 7,
		Courses: []control.Course{
			{ID: "pub", Visibility: control.VisibilityPublic},
			{ID: "priv", Visibility: control.VisibilityPrivate},
			{ID: "enr", Visibility: control.VisibilityEnrolled},
		},
		Lessons: []control.Lesson{
			{ID: "l1", CourseID: "pub", AssetID: "open"},
			{ID: "l2", CourseID: "priv", AssetID: "closed"},
			{ID: "l3", CourseID: "pub", AssetID: "shared"},
			{ID: "l4", CourseID: "priv", AssetID: "shared"},
			{ID: "l5", CourseID: "enr", AssetID: "closed2"},
			{ID: "l6", CourseID: "priv", AssetID: ""},
		},
		Assets: []control.Asset{{ID: "open"}, {ID: "closed"}, {ID: "orphan"}, {ID: "rec-priv"}, {ID: "owned", CourseID: "priv"}},
		Sessions: []control.LiveSession{
			{ID: "lpub", CourseID: "pub", RecordingAssetID: "rec-pub"},
			{ID: "lpriv", CourseID: "priv", RecordingAssetID: "rec-priv"},
			{ID: "lpriv2", CourseID: "priv"},
		},
		Keys: []control.SigningKey{{KID: testKey.Kid, Secret: string(testKey.Secret)}},
	}
}

func sign(t *testing.T, scope string, expiry time.Duration, subnet string) string {
	t.Helper()
	c := playback.Claims{Scope: scope, Expiry: testNow.Add(expiry)}
	if subnet != "" {
		c.Subnet = netip.MustParsePrefix(subnet)
	}
	tok, err := playback.Sign(testKey, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestCheck(t *testing.T) {
	p := New(testSnapshot(), Options{Now: func() time.Time { return testNow }})
	courseTok := sign(t, playback.CourseScope("priv"), time.Hour, "")
	otherCourse := sign(t, playback.CourseScope("enr"), time.Hour, "")
	assetTok := sign(t, "closed", time.Hour, "")
	sessTok := sign(t, SessionScope("lpriv"), time.Hour, "")
	expired := sign(t, playback.CourseScope("priv"), -time.Minute, "")
	subnet := sign(t, playback.CourseScope("priv"), time.Hour, "198.51.100.0/24")
	other := playback.Key{Kid: "k1", Secret: []byte("another-secret-of-16+")}
	forged, _ := playback.Sign(other, playback.Claims{Scope: playback.CourseScope("priv"), Expiry: testNow.Add(time.Hour)})

	tests := []struct {
		name          string
		req           Request
		allow, public bool
		reason        string
	}{
		{"public course asset", Request{Asset: "open"}, true, true, ReasonPublic},
		{"orphan asset plays freely", Request{Asset: "orphan"}, true, true, ReasonPublic},
		{"unknown asset plays freely", Request{Asset: "nothing"}, true, true, ReasonPublic},
		{"asset owned by a private course, in no lesson", Request{Asset: "owned"}, false, false, ReasonTokenRequired},
		{"owned asset, owner course token", Request{Asset: "owned", Token: courseTok}, true, false, ReasonToken},
		{"owned asset, other course token", Request{Asset: "owned", Token: otherCourse}, false, false, "out_of_scope"},
		{"asset of public and private course", Request{Asset: "shared"}, true, true, ReasonPublic},
		{"private asset without token", Request{Asset: "closed"}, false, false, ReasonTokenRequired},
		{"enrolled asset without token", Request{Asset: "closed2"}, false, false, ReasonTokenRequired},
		{"private asset, course token", Request{Asset: "closed", Token: courseTok}, true, false, ReasonToken},
		{"private asset, asset token", Request{Asset: "closed", Token: assetTok}, true, false, ReasonToken},
		{"private asset, other course token", Request{Asset: "closed", Token: otherCourse}, false, false, "out_of_scope"},
		{"private asset, session token", Request{Asset: "closed", Token: sessTok}, false, false, "out_of_scope"},
		{"private asset, expired token", Request{Asset: "closed", Token: expired}, false, false, "expired"},
		{"private asset, forged token", Request{Asset: "closed", Token: forged}, false, false, "bad_signature"},
		{"private asset, garbage token", Request{Asset: "closed", Token: "AAAA"}, false, false, "malformed"},
		{"private asset, wrong subnet", Request{Asset: "closed", Token: subnet, Client: client}, false, false, "wrong_subnet"},
		{"private asset, right subnet", Request{Asset: "closed", Token: subnet, Client: netip.MustParseAddr("198.51.100.7")}, true, false, ReasonToken},
		{"public asset, token of another asset", Request{Asset: "open", Token: assetTok}, false, true, "out_of_scope"},
		{"public session", Request{Session: "lpub"}, true, true, ReasonPublic},
		{"private session without token", Request{Session: "lpriv"}, false, false, ReasonTokenRequired},
		{"private session, course token", Request{Session: "lpriv", Token: courseTok}, true, false, ReasonToken},
		{"private session, session token", Request{Session: "lpriv", Token: sessTok}, true, false, ReasonToken},
		{"other private session, session token", Request{Session: "lpriv2", Token: sessTok}, false, false, "out_of_scope"},
		{"private session, asset token", Request{Session: "lpriv", Token: assetTok}, false, false, "out_of_scope"},
		{"unknown session", Request{Session: "nope"}, false, false, ReasonUnknownSession},
		{"unknown session with token", Request{Session: "nope", Token: courseTok}, false, false, ReasonUnknownSession},
		{"public recording", Request{Asset: "rec-pub"}, true, true, ReasonPublic},
		{"private recording without token", Request{Asset: "rec-priv"}, false, false, ReasonTokenRequired},
		{"private recording, course token", Request{Asset: "rec-priv", Token: courseTok}, true, false, ReasonToken},
		{"private recording, session token", Request{Asset: "rec-priv", Token: sessTok}, true, false, ReasonToken},
		{"orphan recording named after its session", Request{Asset: "lpriv2"}, false, false, ReasonTokenRequired},
		{"orphan recording with -N suffix", Request{Asset: "lpriv2-3"}, false, false, ReasonTokenRequired},
		{"orphan recording, course token", Request{Asset: "lpriv2-3", Token: courseTok}, true, false, ReasonToken},
		{"asset merely ending in a dash", Request{Asset: "lpriv2-x"}, true, true, ReasonPublic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Check(tt.req)
			if d.Allow != tt.allow || d.Reason != tt.reason || (d.Reason != ReasonUnknownSession && d.Public != tt.public) {
				t.Fatalf("Check(%+v) = %+v; want allow %v, reason %q, public %v", tt.req, d, tt.allow, tt.reason, tt.public)
			}
			if (d.Err() == nil) != tt.allow {
				t.Fatalf("Err() = %v with allow %v", d.Err(), d.Allow)
			}
			if !d.Allow && d.Detail == "" {
				t.Fatal("refusal without detail")
			}
		})
	}
}

func TestCourseNotInSnapshotIsNotPublic(t *testing.T) {
	s := Snapshot{Lessons: []control.Lesson{{ID: "l", CourseID: "gone", AssetID: "a"}},
		Sessions: []control.LiveSession{{ID: "s", CourseID: "gone"}}}
	p := New(s, Options{})
	if d := p.Check(Request{Asset: "a"}); d.Allow {
		t.Fatalf("asset of an unknown course: %+v", d)
	}
	if d := p.Check(Request{Session: "s"}); d.Allow {
		t.Fatalf("session of an unknown course: %+v", d)
	}
}

func TestLabels(t *testing.T) {
	p := New(testSnapshot(), Options{})
	tests := []struct{ kind, id, want string }{
		{"asset", "open", "open"},
		{"asset", "orphan", "orphan"},
		{"asset", "closed", PrivateLabel},
		{"asset", "rec-priv", PrivateLabel},
		{"asset", "lpriv2-1", PrivateLabel},
		{"session", "lpub", "lpub"},
		{"session", "lpriv", PrivateLabel},
		{"session", "unknown", PrivateLabel},
	}
	for _, tt := range tests {
		got := p.AssetLabel(tt.id)
		if tt.kind == "session" {
			got = p.SessionLabel(tt.id)
		}
		if got != tt.want {
			t.Errorf("%s label of %q = %q, want %q", tt.kind, tt.id, got, tt.want)
		}
	}
}

func TestCoursesAndIndex(t *testing.T) {
	p := New(testSnapshot(), Options{})
	if p.Index() != 7 || len(p.Keys()) != 1 {
		t.Fatalf("index %d, %d keys", p.Index(), len(p.Keys()))
	}
	if got := p.Courses("shared"); len(got) != 2 || got[0] != "priv" || got[1] != "pub" {
		t.Fatalf("Courses(shared) = %v", got)
	}
	if c, ok := p.SessionCourse("lpriv"); !ok || c != "priv" {
		t.Fatalf("SessionCourse = %q, %v", c, ok)
	}
}

// TestNoKeysRefusesTokens: a catalog without signing keys refuses every
// token and still serves free media without one.
func TestNoKeysRefusesTokens(t *testing.T) {
	s := testSnapshot()
	s.Keys = nil
	p := New(s, Options{Now: func() time.Time { return testNow }})
	if d := p.Check(Request{Asset: "closed", Token: sign(t, playback.CourseScope("priv"), time.Hour, "")}); d.Allow || d.Reason != "unknown_kid" {
		t.Fatalf("%+v", d)
	}
	if d := p.Check(Request{Asset: "open"}); !d.Allow {
		t.Fatalf("%+v", d)
	}
}

// TestCheckFreeDoesNotAllocate: the hot path (a segment of free media
// without a token) costs no allocation.
func TestCheckFreeDoesNotAllocate(t *testing.T) {
	p := New(testSnapshot(), Options{})
	for _, req := range []Request{{Asset: "open"}, {Asset: "orphan"}, {Session: "lpub"}} {
		if n := testing.AllocsPerRun(100, func() { p.Check(req) }); n != 0 {
			t.Errorf("Check(%+v): %v allocations", req, n)
		}
	}
}

// TestClosedRefusesEverything: a node that cannot read its catalog serves
// no media rather than private media, and labels nothing by name.
func TestClosedRefusesEverything(t *testing.T) {
	p := New(Snapshot{}, Options{Closed: true})
	for _, req := range []Request{{Asset: "open"}, {Asset: "anything"}, {Session: "lpub"}} {
		if d := p.Check(req); d.Allow || d.Reason != ReasonUnavailable {
			t.Fatalf("Check(%+v) = %+v", req, d)
		}
	}
	if p.AssetLabel("anything") != PrivateLabel {
		t.Fatal("closed policy labels an asset by name")
	}
}
