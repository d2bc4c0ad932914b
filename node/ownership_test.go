package node

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/control"
)

// TestPlaybackTokenNeedsTheOwnerCourse reproduces finding 4 of issue 11:
// an instructor of private course A linked course B's asset into a lesson
// of A and then signed playback URLs for it. Now the link is refused, and
// signing an asset-scoped URL needs admin or an instructor of the course
// that owns the asset, whatever lessons link it.
func TestPlaybackTokenNeedsTheOwnerCourse(t *testing.T) {
	n, c := demoCatalogNode(t)
	ctx := t.Context()
	must := func(res *control.Result, err error) *control.Result { t.Helper(); return mustResult(t, res, err) }
	for _, id := range []string{"a", "b"} {
		must(c.Create(ctx, control.KindCourse, id, control.Course{Title: "Course " + id, Visibility: control.VisibilityPrivate}))
		must(c.Create(ctx, control.KindModule, "m-"+id, control.Module{CourseID: id, Title: "Week 1"}))
	}
	must(c.Create(ctx, control.KindLesson, "b-lesson", control.Lesson{ModuleID: "m-b", Title: "B's lecture", AssetID: "demo"}))
	must(c.Create(ctx, control.KindKey, "k1", control.SigningKey{Secret: "0123456789abcdef0123456789abcdef",
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}))
	instA := must(c.Create(ctx, control.KindToken, "inst-a", control.APIToken{Role: control.RoleInstructor, Courses: []string{"a"}})).Secret
	instB := must(c.Create(ctx, control.KindToken, "inst-b", control.APIToken{Role: control.RoleInstructor, Courses: []string{"b"}})).Secret

	// The instructor of A may not link B's asset into A.
	r := do(t, "POST", n.URL()+"/api/v1/lessons", instA, `{"id":"a-lesson","module_id":"m-a","title":"Taken","asset_id":"demo"}`)
	if r.code != 403 {
		t.Fatalf("instructor of a links b's asset: %d %s, want 403", r.code, r.body)
	}
	sign := func(token, body string) response {
		t.Helper()
		return do(t, "POST", n.URL()+"/api/v1/playback-tokens", token, body)
	}
	if r := sign(instA, `{"asset":"demo"}`); r.code != 403 {
		t.Fatalf("instructor of a signs for b's asset: %d %s, want 403", r.code, r.body)
	}
	if r := sign(instB, `{"asset":"demo"}`); r.code != 201 {
		t.Fatalf("instructor of b signs for b's asset: %d %s", r.code, r.body)
	}

	// An admin links it into A as well (say, before ownership existed):
	// a lesson of A that sorts first no longer hands signing to A. Used by
	// two courses and with no owner set, only an admin signs, until the
	// admin makes B the owner.
	must(c.Create(ctx, control.KindLesson, "a-lesson", control.Lesson{ModuleID: "m-a", Title: "Shared", AssetID: "demo"}))
	if r := sign(instA, `{"asset":"demo"}`); r.code != 403 {
		t.Fatalf("instructor of a signs for a shared asset without owner: %d %s, want 403", r.code, r.body)
	}
	cur, err := c.Asset("demo")
	if err != nil {
		t.Fatal(err)
	}
	cur.CourseID = "b"
	must(c.Update(ctx, control.KindAsset, "demo", cur.Revision, cur))
	if r := sign(instA, `{"asset":"demo"}`); r.code != 403 {
		t.Fatalf("instructor of a signs for an asset owned by b: %d %s, want 403", r.code, r.body)
	}
	if r := sign(instB, `{"asset":"demo"}`); r.code != 201 {
		t.Fatalf("instructor of b signs for its asset: %d %s", r.code, r.body)
	}
	if r := sign(instA, `{"course":"b"}`); r.code != 403 {
		t.Fatalf("instructor of a signs for course b: %d %s, want 403", r.code, r.body)
	}
	// Registration by the origin (no owner in its record) keeps the owner.
	cur.Title = "Renamed by an admin" // makes the origin's record differ, so it writes
	must(c.Update(ctx, control.KindAsset, "demo", 0, cur))
	n.assetsDirty.Store(true)
	waitFor(t, "the origin to register its asset again", func() bool {
		a, err := c.Asset("demo")
		return err == nil && a.Title != cur.Title
	})
	if a, _ := c.Asset("demo"); a.CourseID != "b" {
		t.Fatalf("registration changed the owner to %q", a.CourseID)
	}
}

// TestPlaybackTokenMappedSubnet reproduces finding 7 of issue 11: a
// subnet written IPv4-mapped (::ffff:127.0.0.1/128) was signed as an IPv6
// prefix and never matched the IPv4 client it names. It is signed as the
// IPv4 prefix now; a mapped prefix with no IPv4 form is a 400.
func TestPlaybackTokenMappedSubnet(t *testing.T) {
	n, c := demoCatalogNode(t)
	ctx := t.Context()
	for _, step := range []func() (*control.Result, error){
		func() (*control.Result, error) {
			return c.Create(ctx, control.KindCourse, "p", control.Course{Title: "P", Visibility: control.VisibilityPrivate})
		},
		func() (*control.Result, error) {
			return c.Create(ctx, control.KindModule, "m", control.Module{CourseID: "p", Title: "W"})
		},
		func() (*control.Result, error) {
			return c.Create(ctx, control.KindLesson, "l", control.Lesson{ModuleID: "m", Title: "L", AssetID: "demo"})
		},
		func() (*control.Result, error) {
			return c.Create(ctx, control.KindKey, "k1", control.SigningKey{Secret: "0123456789abcdef0123456789abcdef",
				NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)})
		},
	} {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}
	admin := n.AdminToken()
	tests := []struct {
		subnet string
		code   int
		signed string
		play   int
	}{
		{"::ffff:127.0.0.1/128", 201, "127.0.0.1/32", 200},
		{"::ffff:127.0.0.0/104", 201, "127.0.0.0/8", 200},
		{"::ffff:10.0.0.0/104", 201, "10.0.0.0/8", 403},
		{"::ffff:0.0.0.0/95", 400, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.subnet, func(t *testing.T) {
			r := do(t, "POST", n.URL()+"/api/v1/playback-tokens", admin, `{"asset":"demo","subnet":"`+tt.subnet+`"}`)
			if r.code != tt.code {
				t.Fatalf("sign: %d %s, want %d", r.code, r.body, tt.code)
			}
			if tt.code != 201 {
				if !strings.Contains(string(r.body), "IPv4") {
					t.Errorf("refusal does not say why: %s", r.body)
				}
				return
			}
			var out struct{ URL, Subnet string }
			if err := json.Unmarshal(r.body, &out); err != nil || out.Subnet != tt.signed {
				t.Fatalf("signed subnet %q (%v), want %s: %s", out.Subnet, err, tt.signed, r.body)
			}
			if g := get(t, n.URL()+out.URL); g.code != tt.play {
				t.Fatalf("play from 127.0.0.1: %d %s, want %d", g.code, g.body, tt.play)
			}
		})
	}
}

// demoCatalogNode starts a node serving the demo media and waits until
// its origin has registered the demo asset in the catalog.
func demoCatalogNode(t *testing.T) (*Node, *control.Store) {
	t.Helper()
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	c := n.Catalog()
	waitFor(t, "the demo asset in the catalog", func() bool {
		_, err := c.Asset("demo")
		return err == nil
	})
	return n, c
}

// mustResult fails the test on a catalog write error.
func mustResult(t *testing.T, res *control.Result, err error) *control.Result {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return res
}
