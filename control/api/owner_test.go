package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/classmesh/classmesh/control"
)

// TestLinkNeedsTheOwnerCourse reproduces finding 4 of issue 11: an
// instructor of a public course linked a private course's asset into a
// lesson (it became public), and an instructor of a private course took
// over another course's asset the same way. Linking an asset (a lesson's
// asset_id, a session's recording_asset, on create, update or rollback)
// now needs admin or an instructor of the course that owns the asset.
func TestLinkNeedsTheOwnerCourse(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ id, vis string }{{"pub", "public"}, {"priv", "private"}, {"other", "private"}} {
		e.must(201, "POST", "/api/v1/courses", e.admin, obj{"id": c.id, "title": c.id, "visibility": c.vis})
		e.must(201, "POST", "/api/v1/modules", e.admin, obj{"id": c.id + "-m", "course_id": c.id, "title": "M"})
	}
	asset := func(id, course string) {
		a := obj{"id": id, "title": id, "source": "v/" + id + ".mp4", "status": "ready"}
		if course != "" {
			a["course_id"] = course
		}
		e.must(201, "POST", "/api/v1/assets", e.admin, a)
	}
	asset("secret", "priv")
	asset("mine", "pub")
	asset("orphan", "")
	token := func(id string, courses ...string) string {
		m := e.must(201, "POST", "/api/v1/tokens", e.admin, obj{"id": id, "role": "instructor", "courses": courses})
		return m["token"].(string)
	}
	pubIns, otherIns := token("pub-ins", "pub"), token("other-ins", "other")
	session := func(id, course, rec string) obj {
		s := obj{"id": id, "course_id": course, "title": "Live", "scheduled_start": "2030-01-01T10:00:00Z", "scheduled_end": "2030-01-01T11:00:00Z"}
		if rec != "" {
			s["recording_asset"] = rec
		}
		return s
	}
	cases := []struct {
		name, method, path, token string
		body                      any
		status                    int
	}{
		{"public instructor links a private asset", "POST", "/api/v1/lessons", pubIns, obj{"id": "leak", "module_id": "pub-m", "title": "x", "asset_id": "secret"}, 403},
		{"private instructor takes another course's asset", "POST", "/api/v1/lessons", otherIns, obj{"id": "take", "module_id": "other-m", "title": "x", "asset_id": "secret"}, 403},
		{"instructor links an asset without owner", "POST", "/api/v1/lessons", pubIns, obj{"id": "orph", "module_id": "pub-m", "title": "x", "asset_id": "orphan"}, 403},
		{"instructor links a missing asset", "POST", "/api/v1/lessons", pubIns, obj{"id": "ghost", "module_id": "pub-m", "title": "x", "asset_id": "ghost"}, 422},
		{"instructor links an asset of their course", "POST", "/api/v1/lessons", pubIns, obj{"id": "ok", "module_id": "pub-m", "title": "x", "asset_id": "mine"}, 201},
		{"admin links anything", "POST", "/api/v1/lessons", e.admin, obj{"id": "adm", "module_id": "other-m", "title": "x", "asset_id": "orphan"}, 201},
		{"instructor records into another course's asset", "POST", "/api/v1/sessions", otherIns, session("s1", "other", "secret"), 403},
		{"instructor session without recording", "POST", "/api/v1/sessions", otherIns, session("s2", "other", ""), 201},
		{"instructor may not set an owner", "PUT", "/api/v1/assets/orphan", otherIns, obj{"title": "x", "source": "v/x.mp4", "status": "ready", "course_id": "other"}, 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, c.token, c.body, "If-Match", "*")
			if r.code != c.status {
				t.Fatalf("status %d, want %d: %s", r.code, c.status, r.body)
			}
			if c.status == 403 && !strings.Contains(string(r.body), "asset") && !strings.Contains(string(r.body), "admin") {
				t.Errorf("refusal does not say why: %s", r.body)
			}
		})
	}

	t.Run("update relinks", func(t *testing.T) {
		l := e.must(200, "GET", "/api/v1/lessons/ok", pubIns, nil)
		l["title"] = "renamed" // same asset: no link check
		l = e.must(200, "PUT", "/api/v1/lessons/ok", pubIns, l, "If-Match", rev(t, l))
		first := rev(t, l)
		l["asset_id"] = "secret"
		e.must(403, "PUT", "/api/v1/lessons/ok", pubIns, l, "If-Match", first)
		l["asset_id"] = "orphan"
		e.must(403, "PUT", "/api/v1/lessons/ok", pubIns, l, "If-Match", first)
		// An admin relinks it to the private asset; rolling back to the
		// instructor's own asset is fine.
		l["asset_id"] = "secret"
		l = e.must(200, "PUT", "/api/v1/lessons/ok", e.admin, l, "If-Match", first)
		e.must(200, "POST", "/api/v1/lessons/ok/rollback?revision="+strings.Trim(first, `"`), pubIns, nil)
	})
	t.Run("rollback relinks", func(t *testing.T) {
		// The admin's lesson in "other" links the orphan, then "mine";
		// the instructor of "other" may not roll it back onto the orphan.
		l := e.must(200, "GET", "/api/v1/lessons/adm", e.admin, nil)
		orphanRev := strings.Trim(rev(t, l), `"`)
		l["asset_id"] = "mine"
		e.must(200, "PUT", "/api/v1/lessons/adm", e.admin, l, "If-Match", rev(t, l))
		e.must(403, "POST", "/api/v1/lessons/adm/rollback?revision="+orphanRev, otherIns, nil)
		e.must(200, "POST", "/api/v1/lessons/adm/rollback?revision="+orphanRev, e.admin, nil)
	})
}

// TestAssetOwnerKept: an update without course_id (an origin registering
// its media) keeps the owner; an unknown owner course is refused; the
// owner is a field of the asset.
func TestAssetOwnerKept(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/api/v1/courses", e.admin, obj{"id": "c", "title": "c", "visibility": "private"})
	e.must(422, "POST", "/api/v1/assets", e.admin, obj{"id": "x", "course_id": "nope", "title": "x", "source": "x.mp4"})
	a := e.must(201, "POST", "/api/v1/assets", e.admin, obj{"id": "x", "course_id": "c", "title": "x", "source": "x.mp4"})
	delete(a, "course_id")
	a = e.must(200, "PUT", "/api/v1/assets/x", e.admin, a, "If-Match", rev(t, a))
	if a["course_id"] != "c" {
		t.Fatalf("update without course_id cleared the owner: %v", a)
	}
	if owner, err := e.store.AssetOwner("x"); err != nil || owner != "c" {
		t.Fatalf("AssetOwner = %q, %v", owner, err)
	}
}

// failWriter fails every write with err.
type failWriter struct{ err error }

func (f failWriter) Apply(context.Context, control.Command) (*control.Result, error) {
	return nil, f.err
}

// TestUnavailableWrites reproduces finding 7 of issue 11: a write whose
// leader died ended in 500. Every way the catalog can be unreachable is a
// 503 with Retry-After, and an unknown outcome says so.
func TestUnavailableWrites(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		err  error
		code string
	}{
		{fmt.Errorf("%w: forward to x: the leader changed", control.ErrIndeterminate), CodeIndeterminate},
		{fmt.Errorf("%w: no leader elected", control.ErrUnavailable), CodeUnavailable},
		{fmt.Errorf("%w: raft timeout", control.ErrForwardFailed), CodeUnavailable},
		{control.ErrNotLeader, CodeUnavailable},
		{fmt.Errorf("control: %w", context.DeadlineExceeded), CodeUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			h := NewHandler(Config{Reader: e.store, Writer: failWriter{tt.err}, Auth: TokenAuth{Reader: e.store}})
			req := httptest.NewRequest("POST", "/api/v1/courses", strings.NewReader(`{"id":"c","title":"c","visibility":"public"}`))
			req.Header.Set("Authorization", "Bearer "+e.admin)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), `"`+tt.code+`"`) {
				t.Fatalf("%d Retry-After=%q %s, want 503 with Retry-After and code %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body, tt.code)
			}
		})
	}
}

// fakeLookup answers LookupToken from a fixed table, or with err.
type fakeLookup struct {
	tokens map[string]*control.APIToken
	err    error
	calls  int
}

func (f *fakeLookup) LookupToken(_ context.Context, hash string) (*control.APIToken, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	if t, ok := f.tokens[hash]; ok {
		return t, nil
	}
	return nil, control.ErrNotFound
}

// TestTokenAuthAsksTheLeader reproduces finding 8 of issue 11: a valid
// token that the local replica does not know yet was a 401. It is checked
// against the leader first; a token nobody knows stays a 401, and a
// leader that cannot be asked is a 503, not a 401.
func TestTokenAuthAsksTheLeader(t *testing.T) {
	s := openStore(t)
	late := "cmt_created-on-the-leader"
	remote := &fakeLookup{tokens: map[string]*control.APIToken{
		control.HashSecret(late): {ID: "late", Role: control.RoleAdmin},
	}}
	h := NewHandler(Config{Reader: s, Writer: s, Auth: TokenAuth{Reader: s, Remote: remote}})
	get := func(token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/api/v1/tokens", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := get(late); rec.Code != http.StatusOK {
		t.Fatalf("token known to the leader only: %d %s", rec.Code, rec.Body)
	}
	if rec := get("cmt_nobody-knows"); rec.Code != http.StatusUnauthorized {
		t.Fatalf("unknown token: %d %s", rec.Code, rec.Body)
	}
	remote.err = fmt.Errorf("%w: no leader elected", control.ErrUnavailable)
	if rec := get("cmt_nobody-knows"); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("leader unreachable: %d %s, want 503 with Retry-After", rec.Code, rec.Body)
	}
}
