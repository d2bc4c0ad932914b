package node

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/control/api"
	"github.com/classmesh/classmesh/control/playback"
)

// TestFirstBootstrapCreatesAdminToken: a lone node bootstraps the catalog,
// creates one admin token, keeps it in a 0600 file and only its hash in
// the catalog; a restart does not create another.
func TestFirstBootstrapCreatesAdminToken(t *testing.T) {
	data := t.TempDir()
	n := mustNewNode(t, Config{DataDir: data, MediaDir: demoDir(t)})
	tok := n.AdminToken()
	if len(tok) < 20 {
		t.Fatalf("admin token %q", tok)
	}
	path := filepath.Join(data, "admin-token")
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", st, err)
	}
	b, _ := os.ReadFile(path)
	if strings.TrimSpace(string(b)) != tok {
		t.Fatal("token file differs from the token")
	}
	rec, err := n.Catalog().TokenByHash(control.HashSecret(tok))
	if err != nil || rec.Role != "admin" {
		t.Fatalf("catalog token: %+v %v", rec, err)
	}
	all, _ := n.Catalog().List(control.KindToken, nil)
	if strings.Contains(string(all[0]), tok) {
		t.Fatal("the catalog stores the token itself")
	}
	n.Close()
	n2 := mustNewNode(t, Config{DataDir: data, MediaDir: demoDir(t)})
	if n2.AdminToken() != "" {
		t.Fatal("a restart created another admin token")
	}
	if all, _ := n2.Catalog().List(control.KindToken, nil); len(all) != 1 {
		t.Fatalf("%d tokens after restart", len(all))
	}
}

// TestSignedPlaybackURLs: an asset used only by a private course plays
// only through /t/{token}/v/... with a valid token; every refusal is a 403
// with a reason code.
func TestSignedPlaybackURLs(t *testing.T) {
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	c := n.Catalog()
	ctx := t.Context()
	must := func(_ *control.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Create(ctx, control.KindAsset, "demo", control.Asset{ID: "demo", Title: "Demo", Source: "demo", Status: "ready"}))
	must(c.Create(ctx, control.KindCourse, "secret-course", control.Course{ID: "secret-course", Title: "Private", Visibility: "private"}))
	must(c.Create(ctx, control.KindModule, "m1", control.Module{ID: "m1", CourseID: "secret-course", Title: "Week 1"}))
	must(c.Create(ctx, control.KindLesson, "l1", control.Lesson{ID: "l1", ModuleID: "m1", Title: "Intro", AssetID: "demo"}))
	key := playback.Key{Kid: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")}
	must(c.Create(ctx, control.KindKey, "k1", control.SigningKey{KID: "k1", Secret: string(key.Secret),
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}))

	sign := func(cl playback.Claims) string {
		tok, err := playback.Sign(key, cl)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := sign(playback.Claims{Expiry: time.Now().Add(time.Hour), Scope: playback.CourseScope("secret-course")})
	tests := []struct {
		name, path string
		code       int
		reason     string
	}{
		{"no token", "/v/demo/master.m3u8", 403, "token_required"},
		{"valid", "/t/" + good + "/v/demo/master.m3u8", 200, ""},
		{"valid, relative media playlist", "/t/" + good + "/v/demo/720p/media.m3u8", 200, ""},
		{"valid, segment", "/t/" + good + "/v/demo/720p/seg-0.m4s", 200, ""},
		{"expired", "/t/" + sign(playback.Claims{Expiry: time.Now().Add(-time.Minute), Scope: playback.CourseScope("secret-course")}) + "/v/demo/master.m3u8", 403, "expired"},
		{"other scope", "/t/" + sign(playback.Claims{Expiry: time.Now().Add(time.Hour), Scope: "other-asset"}) + "/v/demo/master.m3u8", 403, "out_of_scope"},
		{"tampered", "/t/" + good[:len(good)-2] + "AA/v/demo/master.m3u8", 403, "bad_signature"},
		{"garbage", "/t/!!!/v/demo/master.m3u8", 403, "malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := get(t, n.URL()+tc.path)
			if r.code != tc.code || !strings.Contains(string(r.body), tc.reason) {
				t.Fatalf("%d %s, want %d %q", r.code, r.body, tc.code, tc.reason)
			}
			var body api.ErrorBody
			if tc.code == 403 && (json.Unmarshal(r.body, &body) != nil || body.Code != "forbidden" || body.Reason != tc.reason || body.Error == "") {
				t.Fatalf("refusal body %s: want the API error body with code forbidden and reason %q", r.body, tc.reason)
			}
		})
	}
	if r := get(t, n.URL()+"/t/"+good+"/v/demo/master.m3u8"); !strings.Contains(string(r.body), "720p/media.m3u8") {
		t.Fatalf("master playlist must use relative URIs so the token carries over: %s", r.body)
	}
}

// do sends a JSON request with an optional bearer token.
func do(t *testing.T, method, url, token, body string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := noGzipClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

// TestCatalogAPIThroughAnEdge: the admin token created at bootstrap works
// on every node; a write sent to an edge is forwarded to the leader and
// readable on the edge at once; the origin's assets are in the catalog; an
// LMS gets a signed URL that plays.
func TestCatalogAPIThroughAnEdge(t *testing.T) {
	nodes := startCluster(t, 1)
	origin, edge := nodes[0], nodes[1]
	admin := origin.AdminToken()
	if admin == "" {
		t.Fatal("no admin token")
	}
	waitFor(t, "the demo asset in the edge's catalog replica", func() bool {
		a, err := edge.Catalog().Asset("demo")
		return err == nil && a.Status == "ready" && len(a.Renditions) == 4
	})
	if r := do(t, "POST", edge.URL()+"/api/v1/courses", "", `{"id":"c1","title":"Physics","visibility":"private"}`); r.code != 401 {
		t.Fatalf("anonymous write: %d %s", r.code, r.body)
	}
	steps := []struct {
		method, path, body string
		code               int
	}{
		{"POST", "/api/v1/courses", `{"id":"c1","title":"Physics","visibility":"private"}`, 201},
		{"POST", "/api/v1/modules", `{"id":"m1","course_id":"c1","title":"Week 1"}`, 201},
		{"POST", "/api/v1/lessons", `{"id":"l1","module_id":"m1","title":"Intro","asset_id":"demo"}`, 201},
		{"POST", "/api/v1/lessons", `{"id":"l2","module_id":"m1","title":"Ghost","asset_id":"no-such-asset"}`, 422},
		{"POST", "/api/v1/keys", `{"kid":"k1","secret":"0123456789abcdef0123456789abcdef","not_before":"2020-01-01T00:00:00Z","not_after":"2100-01-01T00:00:00Z"}`, 201},
	}
	for _, s := range steps {
		if r := do(t, s.method, edge.URL()+s.path, admin, s.body); r.code != s.code {
			t.Fatalf("%s %s: %d %s (want %d)", s.method, s.path, r.code, r.body, s.code)
		}
	}
	if r := get(t, edge.URL()+"/api/v1/courses/c1"); r.code == 200 {
		t.Fatalf("a private course is readable without a token: %s", r.body)
	}
	if r := do(t, "GET", edge.URL()+"/api/v1/courses/c1", admin, ""); r.code != 200 || r.header.Get("ETag") == "" {
		t.Fatalf("read own write on the edge: %d %s", r.code, r.body)
	}
	if r := do(t, "PUT", edge.URL()+"/api/v1/courses/c1", admin, `{"id":"c1","title":"Physics 2","visibility":"private"}`, "If-Match", `"1"`); r.code != 409 {
		t.Fatalf("stale If-Match: %d %s", r.code, r.body)
	}
	if r := get(t, edge.URL()+"/v/demo/master.m3u8"); r.code != 403 {
		t.Fatalf("private course asset without a token: %d", r.code)
	}
	r := do(t, "POST", edge.URL()+"/api/v1/playback-tokens", admin, `{"asset":"demo","ttl_seconds":600}`)
	var out struct{ URL string }
	if r.code != 201 || json.Unmarshal(r.body, &out) != nil || out.URL == "" {
		t.Fatalf("playback token: %d %s", r.code, r.body)
	}
	for _, n := range nodes {
		if r := get(t, n.URL()+out.URL); r.code != 200 {
			t.Fatalf("signed URL on %s: %d %s", n.Cluster().ID(), r.code, r.body)
		}
	}
	// GET /api/v1/assets merges the catalog with what this node packages:
	// an asset registered only in the catalog is listed, not packaged.
	if r := do(t, "POST", edge.URL()+"/api/v1/assets", admin, `{"id":"later","title":"Later","source":"later.mp4","status":"pending"}`); r.code != 201 {
		t.Fatalf("create asset: %d %s", r.code, r.body)
	}
	var list []api.AssetView
	// demo is a private course's asset now: listed for the admin.
	if r := do(t, "GET", edge.URL()+"/api/v1/assets", admin, ""); r.code != 200 || json.Unmarshal(r.body, &list) != nil {
		t.Fatalf("assets: %d %s", r.code, r.body)
	}
	got := map[string]api.AssetView{}
	for _, a := range list {
		got[a.ID] = a
	}
	if a := got["demo"]; !a.Packaged || a.Revision == 0 || len(a.Renditions) != 4 || a.Source == "" {
		t.Errorf("demo = %+v", a)
	}
	if a := got["later"]; a.Packaged || a.Revision == 0 || a.Status != "pending" || a.Source != "later.mp4" {
		t.Errorf("later = %+v", a)
	}
	if r := get(t, origin.URL()+"/api/v1/openapi.json"); r.code != 200 || !strings.Contains(string(r.body), `"openapi"`) {
		t.Fatalf("openapi: %d", r.code)
	}
}

// TestNonVoterServesFromItsReplica: a non-voter edge serves a course
// written on the leader from its local replica: it keeps serving it after
// the leader is gone, so no request went to the leader. The replication
// delay is logged, not asserted (make bench measures it).
func TestNonVoterServesFromItsReplica(t *testing.T) {
	nodes := startCluster(t, 1)
	origin, edge := nodes[0], nodes[1]
	waitFor(t, "the edge to be a non-voter", func() bool {
		st, err := origin.Catalog().Stats()
		return err == nil && len(st.Nonvoters) == 1
	})
	start := time.Now()
	res, err := origin.Catalog().Create(t.Context(), control.KindCourse, "fresh", control.Course{ID: "fresh", Title: "Fresh", Visibility: "public"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the edge to apply the write", func() bool { return edge.Catalog().AppliedIndex() >= res.Revision })
	t.Logf("the non-voter applied the write %v after it was acknowledged", time.Since(start))
	if err := origin.Close(); err != nil {
		t.Fatal(err)
	}
	r := get(t, edge.URL()+"/api/v1/courses/fresh")
	if r.code != 200 || !strings.Contains(string(r.body), `"title": "Fresh"`) && !strings.Contains(string(r.body), `"title":"Fresh"`) {
		t.Fatalf("edge with the leader gone: %d %s", r.code, r.body)
	}
}

// TestFiveNodesBootstrapExpectAndLeaderLoss: three control nodes started
// with --bootstrap-expect 3 form the voters, two edges become non-voters;
// when the leader dies abruptly a new one is elected among the other
// voters, an acknowledged write survives and new writes replicate to all.
func TestFiveNodesBootstrapExpectAndLeaderLoss(t *testing.T) {
	var nodes []*Node
	for i := range 5 {
		cfg := Config{ClusterSecret: testSecret, NodeID: fmt.Sprintf("n%d", i), BootstrapExpect: 3,
			Roles: []cluster.Role{cluster.RoleEdge, cluster.RoleControl}}
		if i == 0 {
			cfg.MediaDir = demoDir(t)
			cfg.Roles = append(cfg.Roles, cluster.RoleOrigin)
		} else {
			cfg.Join = []string{nodes[0].Cluster().Self().GossipAddr}
		}
		if i >= 3 {
			cfg.Roles = []cluster.Role{cluster.RoleEdge}
		}
		nodes = append(nodes, mustNewNode(t, cfg))
	}
	leaderOf := func(ns []*Node) *Node {
		for _, n := range ns {
			if n.Catalog().IsLeader() {
				return n
			}
		}
		return nil
	}
	waitFor(t, "3 voters and 2 non-voters", func() bool {
		l := leaderOf(nodes)
		if l == nil {
			return false
		}
		st, err := l.Catalog().Stats()
		return err == nil && len(st.Voters) == 3 && len(st.Nonvoters) == 2
	})
	leader := leaderOf(nodes)
	if _, err := leader.Catalog().Create(t.Context(), control.KindCourse, "before", control.Course{ID: "before", Title: "Before", Visibility: "public"}); err != nil {
		t.Fatal(err)
	}
	// Kill the leader: its raft and gossip stop without a handover.
	leader.raftLayer.Close()
	leader.Cluster().Close()
	var rest []*Node
	for _, n := range nodes {
		if n != leader {
			rest = append(rest, n)
		}
	}
	var next *Node
	waitFor(t, "a new leader among the other voters", func() bool { next = leaderOf(rest); return next != nil })
	if !next.Catalog().Voter() {
		t.Fatalf("new leader %s is not a voter", next.Cluster().ID())
	}
	res2, err := next.Catalog().Create(t.Context(), control.KindCourse, "after", control.Course{ID: "after", Title: "After", Visibility: "public"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range rest {
		waitFor(t, n.Cluster().ID()+" to apply both writes", func() bool { return n.Catalog().AppliedIndex() >= res2.Revision })
		for _, id := range []string{"before", "after"} {
			if _, err := n.Catalog().Course(id); err != nil {
				t.Fatalf("%s lost %q: %v", n.Cluster().ID(), id, err)
			}
		}
	}
}
