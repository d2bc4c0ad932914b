package node

import (
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/node/vod"
)

// TestReadyzWaitsForListingAndCatalog reproduces finding 8 of issue 11
// (readiness): a joining edge answered /readyz 200 while it still answered
// 404 for the cluster's assets (its first remote listing had not run) and
// 401 to a valid admin token (its catalog replica had not caught up). Now,
// whenever the edge says ready, it serves the cluster's asset and accepts
// the admin token; before that the 503 body says what is missing.
func TestReadyzWaitsForListingAndCatalog(t *testing.T) {
	o := mustNewNode(t, Config{MediaDir: demoDir(t), ClusterSecret: testSecret, NodeID: "origin"})
	admin := o.AdminToken()
	if admin == "" {
		t.Fatal("no admin token")
	}
	if r := get(t, o.URL()+"/readyz"); r.code != 200 {
		t.Fatalf("lone origin /readyz: %d %s", r.code, r.body)
	}
	waitFor(t, "the demo asset in the origin's catalog", func() bool {
		_, err := o.Catalog().Asset("demo")
		return err == nil
	})

	edge := mustNewNode(t, Config{ClusterSecret: testSecret, NodeID: "edge",
		Join: []string{o.Cluster().Self().GossipAddr}, Roles: []cluster.Role{cluster.RoleEdge}})
	// Start has returned; the edge has neither listed the origin's media nor
	// been added to the raft group (the leader waits a few seconds).
	r := get(t, edge.URL()+"/readyz")
	if r.code != 503 {
		t.Fatalf("edge /readyz right after Start: %d %s; want 503 (catalog replica %d behind)",
			r.code, r.body, edge.Catalog().AppliedIndex())
	}
	if body := string(r.body); !strings.Contains(body, "catalog:") {
		t.Errorf("503 body does not say the catalog is behind:\n%s", body)
	}
	t.Logf("first answer: %d %s", r.code, r.body)

	start := time.Now()
	deadline := start.Add(45 * time.Second)
	for polls := 0; ; polls++ {
		r = get(t, edge.URL()+"/readyz")
		if r.code == 200 {
			break
		}
		if r.code != 503 {
			t.Fatalf("/readyz: %d %s", r.code, r.body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("edge never ready after %d polls; last answer:\n%s", polls, r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("edge ready %v after Start", time.Since(start).Round(time.Millisecond))
	// Ready means ready: checked at once, no waiting.
	if a, ok := edge.Library().Asset("demo"); !ok || a.Status != vod.StatusReady {
		t.Errorf("ready edge does not package the demo asset: %+v %v", a, ok)
	}
	if r := get(t, edge.URL()+"/v/demo/master.m3u8"); r.code != 200 {
		t.Errorf("ready edge: GET /v/demo/master.m3u8: %d %s", r.code, r.body)
	}
	if _, err := edge.Catalog().Asset("demo"); err != nil {
		t.Errorf("ready edge's catalog replica lacks the demo asset: %v", err)
	}
	if r := do(t, "GET", edge.URL()+"/api/v1/tokens", admin, ""); r.code != 200 {
		t.Errorf("ready edge: admin token refused: %d %s", r.code, r.body)
	}
}
