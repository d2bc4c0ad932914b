package node

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/node/vod"
)

const testSecret = "classmesh-test-secret-0123456789"

// waitFor polls cond until it holds or the bounded wait ends.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startCluster starts an origin node serving the demo library and edges
// with no media of their own that join it, and waits until every node sees
// every other and can package the demo.
func startCluster(t *testing.T, edges int) []*Node {
	t.Helper()
	o := mustNewNode(t, Config{MediaDir: demoDir(t), ClusterSecret: testSecret, NodeID: "origin", PeerTimeout: time.Second})
	nodes := []*Node{o}
	for i := range edges {
		nodes = append(nodes, mustNewNode(t, Config{
			ClusterSecret: testSecret,
			NodeID:        fmt.Sprintf("edge%d", i+1),
			Join:          []string{o.Cluster().Self().GossipAddr},
			Roles:         []cluster.Role{cluster.RoleEdge},
			PeerTimeout:   time.Second,
		}))
	}
	waitFor(t, "every node to see the whole cluster and the demo asset", func() bool {
		for _, n := range nodes {
			if len(n.Cluster().Members()) != len(nodes) || n.ring.Ring().Len() != len(nodes) {
				return false
			}
			if a, ok := n.Library().Asset("demo"); !ok || a.Status != vod.StatusReady {
				return false
			}
		}
		return true
	})
	return nodes
}

func sumMetric(t testing.TB, nodes []*Node, series string) float64 {
	var sum float64
	for _, n := range nodes {
		sum += metricValue(t, n, series)
	}
	return sum
}

// TestClusterFillsEachSegmentOnce: whichever node learners ask, each
// segment is read from the origin once for the whole cluster, and every
// node serves the same bytes.
func TestClusterFillsEachSegmentOnce(t *testing.T) {
	nodes := startCluster(t, 2)
	a, _ := nodes[1].Library().Asset("demo")
	segments := 0
	for _, r := range a.Renditions {
		for s := range r.Segments {
			segments++
			var first []byte
			for i, n := range nodes {
				resp := get(t, fmt.Sprintf("%s/v/demo/%s/seg-%d.m4s", n.URL(), r.ID, s))
				if resp.code != 200 {
					t.Fatalf("node %d %s seg %d: %d %s", i, r.ID, s, resp.code, resp.body)
				}
				if first == nil {
					first = resp.body
				} else if !bytes.Equal(first, resp.body) {
					t.Fatalf("%s seg %d differs between nodes", r.ID, s)
				}
			}
		}
	}
	origin := sumMetric(t, nodes, `classmesh_cache_fills_total{source="origin"}`)
	peer := sumMetric(t, nodes, `classmesh_cache_fills_total{source="peer"}`)
	if origin != float64(segments) {
		t.Errorf("origin fills across the cluster = %v, want one per segment (%d)", origin, segments)
	}
	if peer == 0 {
		t.Error("no segment came from a peer")
	}
	t.Logf("%d segments x %d nodes: %v origin fills, %v peer fills", segments, len(nodes), origin, peer)
}

// TestOwnerDeathFallsBackToOrigin: when a segment's owner is gone (hard
// stop, not yet detected by gossip), the requester fills from the origin
// itself and the learner still gets the whole segment.
func TestOwnerDeathFallsBackToOrigin(t *testing.T) {
	nodes := startCluster(t, 2)
	edge1, edge2 := nodes[1], nodes[2]
	a, _ := edge1.Library().Asset("demo")
	var rend *vod.Rendition
	seg := -1
	for _, r := range a.Renditions {
		for s := range r.Segments {
			owner, _ := edge1.ring.Ring().Owner(fmt.Sprintf("demo/%s/seg-%d.m4s", r.ID, s), "default")
			if owner.ID == "edge2" && seg < 0 {
				rend, seg = r, s
			}
		}
	}
	if seg < 0 {
		t.Fatal("edge2 owns no segment of the demo")
	}
	if err := edge2.Cluster().Close(); err != nil {
		t.Fatal(err)
	}
	before := metricValue(t, edge1, `classmesh_cache_fills_total{source="origin"}`)
	resp := get(t, fmt.Sprintf("%s/v/demo/%s/seg-%d.m4s", edge1.URL(), rend.ID, seg))
	if resp.code != 200 || int64(len(resp.body)) != rend.Segments[seg].Size {
		t.Fatalf("with the owner dead: %d, %d bytes (want %d)", resp.code, len(resp.body), rend.Segments[seg].Size)
	}
	if after := metricValue(t, edge1, `classmesh_cache_fills_total{source="origin"}`); after != before+1 {
		t.Errorf("edge1 origin fills %v -> %v, want one fallback fill", before, after)
	}
}

func TestMembersAPI(t *testing.T) {
	nodes := startCluster(t, 1)
	r := get(t, nodes[1].AdminURL()+"/api/v1/cluster/members")
	for _, want := range []string{`"id": "origin"`, `"id": "edge1"`, `"roles": [`, `"state": "alive"`, nodes[0].URL()} {
		if !bytes.Contains(r.body, []byte(want)) {
			t.Errorf("members JSON lacks %s:\n%s", want, r.body)
		}
	}
}

// TestJoinRetriedUntilSeedAppears: an edge started before its seed keeps
// retrying --join for as long as it runs (not only during Start).
func TestJoinRetriedUntilSeedAppears(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	seed := l.Addr().String()
	l.Close()
	edge := mustNewNode(t, Config{ClusterSecret: testSecret, NodeID: "early-edge", Join: []string{seed},
		Roles: []cluster.Role{cluster.RoleEdge}})
	time.Sleep(500 * time.Millisecond) // at least one failed attempt
	origin := mustNewNode(t, Config{MediaDir: demoDir(t), ClusterSecret: testSecret, NodeID: "late-origin", GossipAddr: seed})
	waitFor(t, "the early edge to join and see the demo", func() bool {
		a, ok := edge.Library().Asset("demo")
		return len(origin.Cluster().Members()) == 2 && ok && a.Status == vod.StatusReady
	})
}

// TestGossipDrivesRaft: the single control-role node bootstraps the
// catalog, the leader adds joining edges as non-voters, they replicate its
// writes, and a graceful leave removes the member from raft at once.
func TestGossipDrivesRaft(t *testing.T) {
	nodes := startCluster(t, 2)
	origin, edge1, edge2 := nodes[0], nodes[1], nodes[2]
	t0 := time.Now()
	defer func() { t.Logf("total %v", time.Since(t0)) }()
	waitFor(t, "both edges to become non-voters", func() bool {
		st, err := origin.Catalog().Stats()
		return err == nil && st.LeaderID == "origin" && len(st.Voters) == 1 && len(st.Nonvoters) == 2
	})
	res, err := origin.Catalog().Create(t.Context(), control.KindSite, "campus", control.Site{
		Name: "campus", CIDRs: []string{"10.1.0.0/16"}, P2PPolicy: "on"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*Node{edge1, edge2} {
		waitFor(t, e.Cluster().ID()+" to replicate the write", func() bool { return e.Catalog().AppliedIndex() >= res.Revision })
		if _, err := e.Catalog().Get(control.KindSite, "campus"); err != nil {
			t.Fatalf("%s: %v", e.Cluster().ID(), err)
		}
	}
	start := time.Now()
	if err := edge2.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("edge2 closed in %v", time.Since(start))
	waitFor(t, "the leaving edge to be removed from raft", func() bool {
		st, err := origin.Catalog().Stats()
		return err == nil && len(st.Nonvoters) == 1 && st.Nonvoters[0] == "edge1"
	})
	r := get(t, edge1.AdminURL()+"/api/v1/raft/status")
	if r.code != 200 || !strings.Contains(string(r.body), `"leader_id": "origin"`) {
		t.Fatalf("raft status: %d %s", r.code, r.body)
	}
}
