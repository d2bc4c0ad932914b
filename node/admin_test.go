package node

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/control"
)

// keyForms are the encodings in which key bytes could leak.
func keyForms(keys [][]byte) []string {
	var out []string
	for _, k := range keys {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			out = append(out, enc.EncodeToString(k))
		}
		out = append(out, string(k))
	}
	return out
}

func adminDo(t *testing.T, method, url, token string, body any) response {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Origin", "https://evil.example")
	r, err := noGzipClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(r.Body)
	return response{code: r.StatusCode, header: r.Header, body: buf.Bytes()}
}

// Finding 1: GET /api/v1/cluster/keys answered anyone, with CORS, and
// returned the gossip key. Operator endpoints now need an admin token on
// the public listener, never send CORS headers and show key fingerprints
// only.
func TestOperatorEndpointsNeedAdminToken(t *testing.T) {
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	admin := n.AdminToken()
	if admin == "" {
		t.Fatal("a lone node has no admin token")
	}
	ctx := context.Background()
	if _, err := n.Catalog().Create(ctx, control.KindCourse, "c1",
		control.Course{ID: "c1", Title: "C", Visibility: control.VisibilityPublic}); err != nil {
		t.Fatal(err)
	}
	res, err := n.Catalog().Create(ctx, control.KindToken, "teacher",
		control.APIToken{ID: "teacher", Role: control.RoleInstructor, Courses: []string{"c1"}})
	if err != nil {
		t.Fatal(err)
	}
	instructor := res.Secret
	secrets := keyForms(n.Cluster().ListKeys())
	paths := []string{"/api/v1/cluster/keys", "/api/v1/cluster/members", "/api/v1/raft/status", "/metrics"}
	tests := []struct {
		name, base, token string
		code              int
	}{
		{"public anonymous", n.URL(), "", 401},
		{"public unknown token", n.URL(), "not-a-token", 401},
		{"public instructor", n.URL(), instructor, 403},
		{"public admin", n.URL(), admin, 200},
		{"admin listener", n.AdminURL(), "", 200},
	}
	for _, tc := range tests {
		for _, p := range paths {
			t.Run(tc.name+" "+p, func(t *testing.T) {
				r := adminDo(t, http.MethodGet, tc.base+p, tc.token, nil)
				if r.code != tc.code {
					t.Fatalf("status %d, want %d: %s", r.code, tc.code, r.body)
				}
				if o := r.header.Get("Access-Control-Allow-Origin"); o != "" {
					t.Errorf("operator endpoint sends Access-Control-Allow-Origin: %s", o)
				}
				for _, s := range secrets {
					if bytes.Contains(r.body, []byte(s)) {
						t.Fatalf("response contains key material %q", s)
					}
				}
			})
		}
	}
	r := adminDo(t, http.MethodGet, n.URL()+"/api/v1/cluster/keys", admin, nil)
	want := cluster.KeyFingerprint(n.Cluster().ListKeys()[0])
	if !bytes.Contains(r.body, []byte(`"fingerprint": "`+want+`"`)) {
		t.Fatalf("keys list lacks fingerprint %s:\n%s", want, r.body)
	}
	if v := metricValue(t, n, `classmesh_http_operator_refused_total{reason="no_token"}`); v != float64(len(paths)) {
		t.Errorf("refused{no_token} = %v, want %d", v, len(paths))
	}
	if r := adminDo(t, http.MethodPost, n.URL()+"/api/v1/cluster/keys", "", map[string]string{"op": "install", "key": base64.StdEncoding.EncodeToString(make([]byte, 32))}); r.code != 401 {
		t.Fatalf("anonymous key install: %d %s", r.code, r.body)
	}
}

// Brief 2: rotation still works, by key or by fingerprint, and nothing
// it answers carries key bytes.
func TestKeyRotationByFingerprint(t *testing.T) {
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	url := n.AdminURL() + "/api/v1/cluster/keys"
	old := n.Cluster().ListKeys()[0]
	fresh := bytes.Repeat([]byte{7}, 32)
	steps := []struct {
		body map[string]string
		code int
	}{
		{map[string]string{"op": "install", "key": base64.StdEncoding.EncodeToString(fresh)}, 200},
		{map[string]string{"op": "install", "fingerprint": cluster.KeyFingerprint(fresh)}, 422},
		{map[string]string{"op": "use", "fingerprint": cluster.KeyFingerprint(fresh)}, 200},
		{map[string]string{"op": "remove", "fingerprint": "0000000000000000"}, 422},
		{map[string]string{"op": "remove", "fingerprint": cluster.KeyFingerprint(old)}, 200},
	}
	for _, s := range steps {
		r := adminDo(t, http.MethodPost, url, "", s.body)
		if r.code != s.code {
			t.Fatalf("%v: %d, want %d: %s", s.body, r.code, s.code, r.body)
		}
		for _, k := range keyForms([][]byte{old, fresh}) {
			if bytes.Contains(r.body, []byte(k)) {
				t.Fatalf("%v: answer contains key material", s.body)
			}
		}
	}
	keys := n.Cluster().ListKeys()
	if len(keys) != 1 || !bytes.Equal(keys[0], fresh) {
		t.Fatalf("keyring after rotation: %d keys", len(keys))
	}
}

// Brief 4: CORS only for reads that are not operator endpoints; the LMS
// player's GETs and their preflights keep it.
func TestCORSOnlyForPublicReads(t *testing.T) {
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	a, _ := n.Library().Asset("demo")
	seg := n.URL() + "/v/demo/" + a.Renditions[0].ID + "/seg-0.m4s"
	preflight := func(url, method string) string {
		req, _ := http.NewRequest(http.MethodOptions, url, nil)
		req.Header.Set("Origin", "https://lms.example.edu")
		req.Header.Set("Access-Control-Request-Method", method)
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		r, err := noGzipClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.Header.Get("Access-Control-Allow-Origin")
	}
	tests := []struct {
		name string
		got  func() string
		want string
	}{
		{"GET segment", func() string { return adminDo(t, "GET", seg, "", nil).header.Get("Access-Control-Allow-Origin") }, "*"},
		{"GET public API", func() string {
			return adminDo(t, "GET", n.URL()+"/api/v1/assets", "", nil).header.Get("Access-Control-Allow-Origin")
		}, "*"},
		{"preflight GET segment", func() string { return preflight(seg, "GET") }, "*"},
		{"preflight POST courses", func() string { return preflight(n.URL()+"/api/v1/courses", "POST") }, ""},
		{"preflight DELETE courses", func() string { return preflight(n.URL()+"/api/v1/courses/x", "DELETE") }, ""},
		{"preflight GET members", func() string { return preflight(n.URL()+"/api/v1/cluster/members", "GET") }, ""},
		{"POST courses", func() string {
			return adminDo(t, "POST", n.URL()+"/api/v1/courses", n.AdminToken(), map[string]string{"id": "c1", "title": "C"}).header.Get("Access-Control-Allow-Origin")
		}, ""},
		{"POST playback token", func() string {
			return adminDo(t, "POST", n.URL()+"/api/v1/playback-tokens", "", map[string]string{"asset": "demo"}).header.Get("Access-Control-Allow-Origin")
		}, ""},
		{"POST keys", func() string {
			return adminDo(t, "POST", n.URL()+"/api/v1/cluster/keys", n.AdminToken(), map[string]string{"op": "x"}).header.Get("Access-Control-Allow-Origin")
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.got(); got != tc.want {
				t.Fatalf("Access-Control-Allow-Origin = %q, want %q", got, tc.want)
			}
		})
	}
	if !strings.HasPrefix(n.AdminURL(), "http://127.0.0.1:") {
		t.Fatalf("admin listener %q is not on loopback", n.AdminURL())
	}
}

// Finding 1, the exact reproduction: an anonymous GET of the gossip keys
// on the public listener answered 200 with the key, and CORS for any page.
func TestClusterKeysAnonymous(t *testing.T) {
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	r := adminDo(t, http.MethodGet, n.URL()+"/api/v1/cluster/keys", "", nil)
	if r.code != http.StatusUnauthorized && r.code != http.StatusForbidden {
		t.Errorf("anonymous GET /api/v1/cluster/keys: %d, want 401 or 403", r.code)
	}
	for _, s := range keyForms(n.Cluster().ListKeys()) {
		if bytes.Contains(r.body, []byte(s)) {
			t.Fatalf("anonymous answer contains the gossip key:\n%s", r.body)
		}
	}
	if o := r.header.Get("Access-Control-Allow-Origin"); o != "" {
		t.Errorf("Access-Control-Allow-Origin: %s", o)
	}
}
