package api

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestSessionStreamKeyOnceAndEnd(t *testing.T) {
	e := newEnv(t)
	e.seed()
	created := e.must(201, "POST", "/api/v1/sessions", e.admin, obj{"id": "s1", "course_id": "pub", "title": "Live",
		"scheduled_start": "2030-01-01T10:00:00Z", "scheduled_end": "2030-01-01T11:00:00Z"})
	key, _ := created["stream_key"].(string)
	if key == "" || created["state"] != "scheduled" {
		t.Fatalf("create: %v", created)
	}
	got := e.must(200, "GET", "/api/v1/sessions/s1", e.admin, nil)
	if _, ok := got["stream_key"]; ok {
		t.Fatal("stream_key returned by GET")
	}
	s, err := e.store.Session("s1")
	if err != nil || s.StreamKeyHash != got["stream_key_hash"] || !strings.EqualFold(s.StreamKeyHash, hashOf(key)) {
		t.Fatalf("stored hash does not match the returned key: %v", err)
	}
	ended := e.must(200, "POST", "/api/v1/sessions/s1/end", e.admin, nil)
	if ended["state"] != "ended" {
		t.Fatalf("end: %v", ended)
	}
	again := e.must(200, "POST", "/api/v1/sessions/s1/end", e.admin, nil)
	if again["revision"] != ended["revision"] {
		t.Fatal("ending twice wrote again")
	}
	e.must(404, "POST", "/api/v1/sessions/nope/end", e.admin, nil)
}

func TestTokensAndAuth(t *testing.T) {
	e := newEnv(t)
	e.seed()
	created := e.must(201, "POST", "/api/v1/tokens", e.admin, obj{"id": "ins", "role": "instructor", "courses": []string{"priv"}})
	ins, _ := created["token"].(string)
	if ins == "" || created["hash"] != nil {
		t.Fatalf("token create: %v", created)
	}
	list := e.must(200, "GET", "/api/v1/tokens", e.admin, nil)
	for _, it := range list["items"].([]any) {
		m := it.(map[string]any)
		if m["hash"] != nil || m["token"] != nil {
			t.Fatalf("token list leaks secrets: %v", m)
		}
	}
	e.must(201, "POST", "/api/v1/assets", e.admin, obj{"id": "a-priv", "course_id": "priv", "title": "Priv", "source": "v/p.mp4", "status": "ready"})
	lesson := obj{"module_id": "priv-m", "title": "New", "asset_id": "a-priv"}
	session := obj{"course_id": "priv", "title": "Live", "scheduled_start": "2030-01-01T10:00:00Z", "scheduled_end": "2030-01-01T11:00:00Z"}
	cases := []struct {
		name, method, path, token string
		body                      any
		status                    int
	}{
		{"anonymous public course", "GET", "/api/v1/courses/pub", "", nil, 200},
		{"anonymous public lesson", "GET", "/api/v1/lessons/pub-l", "", nil, 200},
		{"anonymous private course", "GET", "/api/v1/courses/priv", "", nil, 401},
		{"anonymous private module", "GET", "/api/v1/modules/priv-m", "", nil, 401},
		{"anonymous keys", "GET", "/api/v1/keys", "", nil, 401},
		{"anonymous write", "POST", "/api/v1/courses", "", obj{"title": "x", "visibility": "public"}, 401},
		{"bad token", "GET", "/api/v1/courses/pub", "cmt_nope", nil, 401},
		{"instructor private course", "GET", "/api/v1/courses/priv", ins, nil, 200},
		{"instructor lesson in scope", "POST", "/api/v1/lessons", ins, lesson, 201},
		{"instructor session in scope", "POST", "/api/v1/sessions", ins, session, 201},
		{"instructor module out of scope", "POST", "/api/v1/modules", ins, obj{"course_id": "pub", "title": "x"}, 403},
		{"instructor lesson out of scope", "POST", "/api/v1/lessons", ins, obj{"module_id": "pub-m", "title": "x", "asset_id": "a1"}, 403},
		{"instructor links an asset without owner", "POST", "/api/v1/lessons", ins, obj{"module_id": "priv-m", "title": "x", "asset_id": "a1"}, 403},
		{"instructor course write", "POST", "/api/v1/courses", ins, obj{"title": "x", "visibility": "public"}, 403},
		{"instructor delete out of scope", "DELETE", "/api/v1/lessons/pub-l", ins, nil, 403},
		{"instructor tokens", "GET", "/api/v1/tokens", ins, nil, 403},
		{"instructor keys", "POST", "/api/v1/keys", ins, obj{}, 403},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, c.token, c.body)
			if r.code != c.status {
				t.Fatalf("status %d, want %d: %s", r.code, c.status, r.body)
			}
			if c.status == 401 && !strings.HasPrefix(r.hdr.Get("WWW-Authenticate"), "Bearer") {
				t.Fatal("401 without WWW-Authenticate: Bearer")
			}
		})
	}
	t.Run("anonymous list hides private records", func(t *testing.T) {
		for _, p := range []string{"courses", "modules", "lessons"} {
			l := e.must(200, "GET", "/api/v1/"+p, "", nil)
			for _, it := range l["items"].([]any) {
				m := it.(map[string]any)
				if m["id"] == "priv" || m["course_id"] == "priv" {
					t.Fatalf("%s: anonymous sees %v", p, m)
				}
			}
		}
	})
	t.Run("instructor sees own sessions only", func(t *testing.T) {
		e.must(201, "POST", "/api/v1/sessions", e.admin, obj{"id": "other", "course_id": "pub", "title": "x",
			"scheduled_start": "2030-01-01T10:00:00Z", "scheduled_end": "2030-01-01T11:00:00Z"})
		l := e.must(200, "GET", "/api/v1/sessions", ins, nil)
		if hasItem(l, "id", "other") || len(l["items"].([]any)) != 1 {
			t.Fatalf("instructor sessions: %v", l)
		}
		e.must(403, "GET", "/api/v1/sessions/other", ins, nil)
		e.must(403, "POST", "/api/v1/sessions/other/end", ins, nil)
	})
}

func TestTokenAuthErrors(t *testing.T) {
	s := openStore(t)
	a := TokenAuth{Reader: s}
	for _, h := range []string{"Basic abc", "Bearer ", "Bearer " + strings.Repeat("x", 600), "Bearer unknown"} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", h)
		if _, err := a.Authenticate(r); !errors.Is(err, ErrBadToken) {
			t.Errorf("%.20q: err %v, want ErrBadToken", h, err)
		}
	}
}

func TestKeyUpdateKeepsSecret(t *testing.T) {
	e := newEnv(t)
	secret := strings.Repeat("k", 32)
	c := e.must(201, "POST", "/api/v1/keys", e.admin, obj{"kid": "k1", "secret": secret,
		"not_before": "2020-01-01T00:00:00Z", "not_after": "2099-01-01T00:00:00Z"})
	if c["active"] != true || c["secret"] != nil {
		t.Fatalf("create: %v", c)
	}
	c["not_before"] = "2021-01-01T00:00:00Z"
	e.must(200, "PUT", "/api/v1/keys/k1", e.admin, c, "If-Match", rev(t, c))
	keys, err := e.store.SigningKeys()
	if err != nil || len(keys) != 1 || keys[0].Secret != secret {
		t.Fatalf("stored keys %v, %v", keys, err)
	}
}
