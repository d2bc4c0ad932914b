package node

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/control"
)

// TestPrivateAssetMetadata: the asset API shows a private course's
// lecture (title, renditions) only to those who may play it: anonymous
// listings leave it out and its record answers 404, as for an asset that
// does not exist; admins, the course's instructors and a playback token
// for it (the signed player page) see it.
func TestPrivateAssetMetadata(t *testing.T) {
	n, c := demoCatalogNode(t)
	ctx := t.Context()
	must := func(res *control.Result, err error) *control.Result { t.Helper(); return mustResult(t, res, err) }
	anon := func(path string) response { t.Helper(); return do(t, "GET", n.URL()+path, "", "") }
	if r := anon("/api/v1/assets"); r.code != 200 || !strings.Contains(string(r.body), `"demo"`) {
		t.Fatalf("an asset in no course is listed for anyone: %d %s", r.code, r.body)
	}

	must(c.Create(ctx, control.KindCourse, "p", control.Course{Title: "Private", Visibility: control.VisibilityPrivate}))
	must(c.Create(ctx, control.KindCourse, "q", control.Course{Title: "Another", Visibility: control.VisibilityPrivate}))
	must(c.Create(ctx, control.KindModule, "m", control.Module{CourseID: "p", Title: "Week 1"}))
	must(c.Create(ctx, control.KindLesson, "l", control.Lesson{ModuleID: "m", Title: "Lecture", AssetID: "demo"}))
	must(c.Create(ctx, control.KindKey, "k1", control.SigningKey{Secret: "0123456789abcdef0123456789abcdef",
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}))
	inst := must(c.Create(ctx, control.KindToken, "inst-p", control.APIToken{Role: control.RoleInstructor, Courses: []string{"p"}})).Secret
	other := must(c.Create(ctx, control.KindToken, "inst-q", control.APIToken{Role: control.RoleInstructor, Courses: []string{"q"}})).Secret

	if r := anon("/api/v1/assets"); r.code != 200 || strings.Contains(string(r.body), `"demo"`) {
		t.Fatalf("anonymous listing shows a private asset: %d %s", r.code, r.body)
	}
	if r := anon("/api/v1/assets/demo"); r.code != 404 {
		t.Fatalf("anonymous GET of a private asset: %d %s, want 404", r.code, r.body)
	}
	if r := do(t, "GET", n.URL()+"/api/v1/assets/demo", other, ""); r.code != 404 {
		t.Fatalf("instructor of another course: %d, want 404", r.code)
	}
	for name, tok := range map[string]string{"admin": n.AdminToken(), "instructor": inst} {
		if r := do(t, "GET", n.URL()+"/api/v1/assets", tok, ""); !strings.Contains(string(r.body), `"demo"`) {
			t.Fatalf("%s listing lacks the private asset: %d %s", name, r.code, r.body)
		}
		if r := do(t, "GET", n.URL()+"/api/v1/assets/demo", tok, ""); r.code != 200 {
			t.Fatalf("%s GET of the private asset: %d %s", name, r.code, r.body)
		}
	}
	signed := do(t, "POST", n.URL()+"/api/v1/playback-tokens", inst, `{"course":"p"}`)
	if signed.code != 201 {
		t.Fatalf("sign: %d %s", signed.code, signed.body)
	}
	var out struct{ Token string }
	if err := json.Unmarshal(signed.body, &out); err != nil || out.Token == "" {
		t.Fatalf("sign answer %s: %v", signed.body, err)
	}
	tok := out.Token
	if r := anon("/t/" + tok + "/api/v1/assets/demo"); r.code != 200 || !strings.Contains(string(r.body), `"demo"`) {
		t.Fatalf("signed player page's metadata: %d %s", r.code, r.body)
	}
	if r := anon("/t/" + tok + "x/api/v1/assets/demo"); r.code != 404 {
		t.Fatalf("tampered token's metadata: %d, want 404", r.code)
	}
}
