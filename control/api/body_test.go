package api

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/classmesh/classmesh/control"
)

func hashOf(s string) string { return control.HashSecret(s) }

func TestBadBodies(t *testing.T) {
	e := newEnv(t)
	big := `{"id":"c","title":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `","visibility":"public"}`
	cases := []struct {
		name, body  string
		status      int
		code, field string
	}{
		{"malformed", `{"id":`, 400, CodeBadRequest, ""},
		{"syntax", `{"id" "c"}`, 400, CodeBadRequest, ""},
		{"empty", ``, 400, CodeBadRequest, ""},
		{"null", `null`, 400, CodeBadRequest, ""},
		{"array", `[]`, 400, CodeBadRequest, ""},
		{"unknown field", `{"id":"c","title":"t","visibility":"public","colour":"red"}`, 400, CodeBadRequest, "colour"},
		{"wrong type", `{"id":"c","title":5,"visibility":"public"}`, 400, CodeBadRequest, "title"},
		{"trailing", `{"id":"c","title":"t","visibility":"public"} {}`, 400, CodeBadRequest, ""},
		{"oversized", big, 413, CodeTooLarge, ""},
		{"invalid value", `{"id":"c","title":"t","visibility":"secret"}`, 400, "invalid", "visibility"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/courses", e.admin, c.body)
			m := r.json(t)
			if r.code != c.status || m["code"] != c.code || (c.field != "" && m["field"] != c.field) {
				t.Fatalf("status %d: %.300s", r.code, r.body)
			}
		})
	}
	e.must(404, "GET", "/api/v1/courses/c", e.admin, nil) // nothing half-applied
	e.must(404, "GET", "/api/v1/nothing", e.admin, nil)
}

func TestLinearizable(t *testing.T) {
	e := newEnv(t)
	e.must(201, "POST", "/api/v1/courses", e.admin, obj{"id": "c", "title": "C", "visibility": "public"})
	e.must(200, "GET", "/api/v1/courses/c", "", nil)
	if e.lin.calls != 0 {
		t.Fatal("local read called the linearizer")
	}
	e.must(200, "GET", "/api/v1/courses/c?consistency=linearizable", "", nil)
	e.must(200, "GET", "/api/v1/courses?consistency=linearizable", "", nil)
	if e.lin.calls != 2 {
		t.Fatalf("linearizer calls = %d, want 2", e.lin.calls)
	}
	e.lin.err = errors.New("no leader")
	r := e.do("GET", "/api/v1/courses/c?consistency=linearizable", "", nil)
	if r.code != 503 || !strings.Contains(string(r.body), "no leader") {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	e.must(400, "GET", "/api/v1/courses/c?consistency=eventual", "", nil)

	h := NewHandler(Config{Reader: e.store, Writer: e.store, Auth: TokenAuth{Reader: e.store}})
	req, _ := http.NewRequest("GET", "/api/v1/courses/c?consistency=linearizable", nil)
	rec := &recorder{hdr: http.Header{}}
	h.ServeHTTP(rec, req)
	if rec.code != 503 {
		t.Fatalf("without a Linearizer: status %d", rec.code)
	}
}

type recorder struct {
	hdr  http.Header
	code int
	buf  bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.hdr }
func (r *recorder) Write(b []byte) (int, error) { return r.buf.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.code = code }

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"empty", Config{}, false},
		{"no auth", Config{Reader: nopReader{}, Writer: nopWriter{}}, false},
		{"negative limit", Config{Reader: nopReader{}, Writer: nopWriter{}, Auth: anonAuth{}, MaxBodyBytes: -1}, false},
		{"minimal", Config{Reader: nopReader{}, Writer: nopWriter{}, Auth: anonAuth{}}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.cfg.Validate()
			if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrBadConfig)) {
				t.Fatalf("err = %v", err)
			}
			if c.ok && (c.cfg.MaxBodyBytes != DefaultMaxBodyBytes || c.cfg.Now == nil || c.cfg.Logger == nil) {
				t.Fatal("defaults not filled")
			}
		})
	}
}
