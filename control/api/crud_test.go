package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestCRUDRoundTrip creates, reads, updates, lists and deletes one record of
// every kind.
func TestCRUDRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.seed()
	cases := []struct {
		path, id, idField string
		create            obj
		field             string
		value             any
	}{
		{"courses", "c1", "id", obj{"title": "C", "visibility": "public"}, "title", "C2"},
		{"modules", "m1", "id", obj{"course_id": "pub", "title": "M"}, "title", "M2"},
		{"lessons", "l1", "id", obj{"module_id": "pub-m", "title": "L", "asset_id": "a1"}, "title", "L2"},
		{"assets", "a2", "id", obj{"title": "A", "source": "https://cdn.example/a2.mp4"}, "duration", 12.5},
		{"sessions", "s1", "id", obj{"course_id": "pub", "title": "S", "scheduled_start": "2030-01-01T10:00:00Z",
			"scheduled_end": "2030-01-01T11:00:00Z"}, "title", "S2"},
		{"sites", "campus", "name", obj{"cidrs": []string{"10.0.0.0/8"}, "p2p_policy": "on"}, "p2p_policy", "off"},
		{"keys", "k1", "kid", obj{"secret": strings.Repeat("s", 32), "not_before": "2020-01-01T00:00:00Z",
			"not_after": "2099-01-01T00:00:00Z"}, "not_after", "2098-01-01T00:00:00Z"},
		{"tokens", "t1", "id", obj{"role": "instructor", "courses": []string{"pub"}}, "role", "admin"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			base := "/api/v1/" + c.path
			c.create[c.idField] = c.id
			created := e.must(201, "POST", base, e.admin, c.create)
			got := e.must(200, "GET", base+"/"+c.id, e.admin, nil)
			if got[c.idField] != c.id {
				t.Fatalf("get %s: %v", c.id, got)
			}
			if _, ok := got["secret"]; ok {
				t.Fatal("a signing key's secret is returned")
			}
			if _, ok := got["hash"]; ok {
				t.Fatal("a token's hash is returned")
			}
			got[c.field] = c.value
			updated := e.must(200, "PUT", base+"/"+c.id, e.admin, got, "If-Match", rev(t, created))
			if updated[c.field] != c.value {
				t.Fatalf("update: %s = %v, want %v", c.field, updated[c.field], c.value)
			}
			r := e.do("GET", base+"/"+c.id, e.admin, nil)
			if r.hdr.Get("ETag") != rev(t, updated) {
				t.Fatalf("ETag %q, want %q", r.hdr.Get("ETag"), rev(t, updated))
			}
			list := e.must(200, "GET", base, e.admin, nil)
			if !hasItem(list, c.idField, c.id) {
				t.Fatalf("list lacks %s: %v", c.id, list)
			}
			e.must(204, "DELETE", base+"/"+c.id, e.admin, nil)
			e.must(404, "GET", base+"/"+c.id, e.admin, nil)
		})
	}
}

func hasItem(list map[string]any, field, id string) bool {
	items, _ := list["items"].([]any)
	for _, it := range items {
		if m, _ := it.(map[string]any); m[field] == id {
			return true
		}
	}
	return false
}

func TestCreateGeneratesID(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/api/v1/courses", e.admin, obj{"title": "No id", "visibility": "public"})
	if r.code != 201 {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	id, _ := r.json(t)["id"].(string)
	if !strings.HasPrefix(id, "course-") || r.hdr.Get("Location") != "/api/v1/courses/"+id {
		t.Fatalf("id %q, Location %q", id, r.hdr.Get("Location"))
	}
	e.must(200, "GET", "/api/v1/courses/"+id, "", nil)
}

func TestIfMatch(t *testing.T) {
	e := newEnv(t)
	c := e.must(201, "POST", "/api/v1/courses", e.admin, obj{"id": "c", "title": "C", "visibility": "public"})
	body := obj{"title": "C2", "visibility": "public"}
	t.Run("missing", func(t *testing.T) {
		r := e.do("PUT", "/api/v1/courses/c", e.admin, body)
		if r.code != http.StatusPreconditionRequired || r.json(t)["code"] != CodePreconditionRequired {
			t.Fatalf("status %d: %s", r.code, r.body)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		e.must(400, "PUT", "/api/v1/courses/c", e.admin, body, "If-Match", `"abc"`)
	})
	t.Run("ok", func(t *testing.T) {
		e.must(200, "PUT", "/api/v1/courses/c", e.admin, body, "If-Match", rev(t, c))
	})
	t.Run("stale", func(t *testing.T) {
		r := e.do("PUT", "/api/v1/courses/c", e.admin, body, "If-Match", rev(t, c))
		m := r.json(t)
		if r.code != 409 || m["code"] != "conflict" || m["revision"] == nil || r.hdr.Get("ETag") == "" {
			t.Fatalf("status %d: %s", r.code, r.body)
		}
	})
	t.Run("query", func(t *testing.T) {
		cur := e.must(200, "GET", "/api/v1/courses/c", e.admin, nil)
		e.must(200, "PUT", "/api/v1/courses/c?if_match="+strings.Trim(rev(t, cur), `"`), e.admin, body)
	})
	t.Run("stale delete", func(t *testing.T) {
		e.must(409, "DELETE", "/api/v1/courses/c", e.admin, nil, "If-Match", rev(t, c))
	})
	t.Run("id mismatch", func(t *testing.T) {
		r := e.do("PUT", "/api/v1/courses/c", e.admin, obj{"id": "other", "title": "x", "visibility": "public"}, "If-Match", "*")
		if r.code != 400 || r.json(t)["field"] != "id" {
			t.Fatalf("status %d: %s", r.code, r.body)
		}
	})
}

func TestHistoryAndRollback(t *testing.T) {
	e := newEnv(t)
	v1 := e.must(201, "POST", "/api/v1/courses", e.admin, obj{"id": "c", "title": "First", "visibility": "public"})
	v2 := e.must(200, "PUT", "/api/v1/courses/c", e.admin, obj{"title": "Second", "visibility": "public"}, "If-Match", rev(t, v1))
	h := e.must(200, "GET", "/api/v1/courses/c/history", e.admin, nil)
	items, _ := h["items"].([]any)
	if len(items) != 2 || items[0].(map[string]any)["title"] != "First" {
		t.Fatalf("history: %v", h)
	}
	r1 := strings.Trim(rev(t, v1), `"`)
	e.must(409, "POST", "/api/v1/courses/c/rollback?revision="+r1, e.admin, nil, "If-Match", rev(t, v1))
	e.must(400, "POST", "/api/v1/courses/c/rollback", e.admin, nil)
	e.must(404, "POST", "/api/v1/courses/c/rollback?revision=999999", e.admin, nil)
	back := e.must(200, "POST", "/api/v1/courses/c/rollback?revision="+r1, e.admin, nil, "If-Match", rev(t, v2))
	if back["title"] != "First" || rev(t, back) == rev(t, v2) {
		t.Fatalf("rollback: %v", back)
	}
	e.must(204, "DELETE", "/api/v1/courses/c", e.admin, nil)
	again := e.must(200, "POST", "/api/v1/courses/c/rollback?revision="+r1, e.admin, nil)
	if again["title"] != "First" {
		t.Fatalf("rollback after delete: %v", again)
	}
	e.must(404, "GET", "/api/v1/courses/nope/history", e.admin, nil)
}

func TestReferences(t *testing.T) {
	e := newEnv(t)
	e.seed()
	cases := []struct {
		name, method, path string
		body               any
		status             int
		code, field        string
	}{
		{"lesson without asset", "POST", "/api/v1/lessons", obj{"id": "x", "module_id": "pub-m", "title": "x", "asset_id": "nope"}, 422, "ref_missing", "asset_id"},
		{"lesson without module", "POST", "/api/v1/lessons", obj{"id": "x", "module_id": "nope", "title": "x", "asset_id": "a1"}, 422, "ref_missing", "module_id"},
		{"module without course", "POST", "/api/v1/modules", obj{"id": "x", "course_id": "nope", "title": "x"}, 422, "ref_missing", "course_id"},
		{"lesson in wrong course", "POST", "/api/v1/lessons", obj{"id": "x", "module_id": "pub-m", "course_id": "priv", "title": "x", "asset_id": "a1"}, 400, "invalid", "course_id"},
		{"duplicate", "POST", "/api/v1/courses", obj{"id": "pub", "title": "x", "visibility": "public"}, 409, "conflict", ""},
		{"course with modules", "DELETE", "/api/v1/courses/pub", nil, 409, "conflict", ""},
		{"asset in use", "DELETE", "/api/v1/assets/a1", nil, 409, "conflict", ""},
		{"bad cidr", "POST", "/api/v1/sites", obj{"name": "s", "cidrs": []string{"10.0.0.1/8"}, "p2p_policy": "on"}, 400, "invalid", "cidrs[0]"},
		{"bad id", "POST", "/api/v1/courses", obj{"id": "a b", "title": "x", "visibility": "public"}, 400, "invalid", "id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, e.admin, c.body)
			m := r.json(t)
			if r.code != c.status || m["code"] != c.code || (c.field != "" && m["field"] != c.field) || m["error"] == "" {
				t.Fatalf("status %d: %s", r.code, r.body)
			}
		})
	}
}
