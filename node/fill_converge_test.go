package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/cluster/fill"
	"github.com/classmesh/classmesh/cluster/ring"
)

// hidingSource is a member view that does not (yet) know one member, as a
// node's view does while gossip converges.
type hidingSource struct {
	*cluster.Cluster
	hide string
}

func (h hidingSource) Members() []cluster.Member {
	var out []cluster.Member
	for _, m := range h.Cluster.Members() {
		if m.ID != h.hide {
			out = append(out, m)
		}
	}
	return out
}

// startNodeWithView is mustNewNode with the node's ring built from a view
// that hides one member.
func startNodeWithView(t *testing.T, cfg Config, hide string) *Node {
	t.Helper()
	cfg.HTTPAddr, cfg.GossipAddr, cfg.QUICAddr, cfg.RTMPAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir, cfg.Logger, cfg.RescanInterval = t.TempDir(), testLogger(t), -1
	cfg.GossipProfile, cfg.LeaveTimeout = "local", 2*time.Second
	n, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// Before Start: no cluster event can read n.ring yet.
	n.ring = ring.NewRingKeeper(hidingSource{n.cluster, hide}, ring.DefaultRingConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		n.Close()
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return n
}

// TestFillsOncePerSegmentWhileRingsDisagree reproduces finding 8 of issue 11
// (fills): while the ring converges, node a does not know node c yet, so
// for some segments a sees b as the owner while b (and c) see c. a asked b,
// b filled from the origin, and c, asked by its own learners, filled from
// the origin as well: two fills for one segment. Now b, which neither owns
// nor holds the segment in its view, forwards the request once to c.
func TestFillsOncePerSegmentWhileRingsDisagree(t *testing.T) {
	media := demoDir(t)
	a := startNodeWithView(t, Config{MediaDir: media, ClusterSecret: testSecret, NodeID: "a", PeerTimeout: 5 * time.Second}, "c")
	join := []string{a.Cluster().Self().GossipAddr}
	b := mustNewNode(t, Config{MediaDir: media, ClusterSecret: testSecret, NodeID: "b", Join: join, PeerTimeout: 5 * time.Second})
	c := mustNewNode(t, Config{MediaDir: media, ClusterSecret: testSecret, NodeID: "c", Join: join, PeerTimeout: 5 * time.Second})
	nodes := []*Node{a, b, c}
	waitFor(t, "a's ring {a,b}, b's and c's rings {a,b,c}", func() bool {
		return len(a.Cluster().Members()) == 3 && a.ring.Ring().Len() == 2 &&
			b.ring.Ring().Len() == 3 && c.ring.Ring().Len() == 3
	})

	asset, ok := a.Library().Asset("demo")
	if !ok {
		t.Fatal("no demo asset")
	}
	region := a.Cluster().Self().Region
	var disagree, agree []string
	for _, r := range asset.Renditions {
		for s := range r.Segments {
			object := fmt.Sprintf("seg-%d.m4s", s)
			key := fill.FillRequest{AssetID: "demo", RenditionID: r.ID, Object: object}.Key()
			oa, _ := a.ring.Ring().Owner(key, region)
			ob, _ := b.ring.Ring().Owner(key, region)
			oc, _ := c.ring.Ring().Owner(key, region)
			path := fmt.Sprintf("/v/demo/%s/%s", r.ID, object)
			switch {
			case oa.ID == "b" && ob.ID == "c" && oc.ID == "c":
				disagree = append(disagree, path)
			case oa.ID == ob.ID && ob.ID == oc.ID && len(agree) < 3:
				agree = append(agree, path)
			}
		}
	}
	if len(disagree) == 0 {
		t.Fatal("no segment for which a sees owner b and b sees owner c; the test needs one")
	}
	before := sumMetric(t, nodes, `classmesh_cache_fills_total{source="origin"}`)
	for _, p := range append(append([]string(nil), disagree...), agree...) {
		for _, n := range []*Node{a, c, b} { // a first: it asks b, which does not own it
			if r := get(t, n.URL()+p); r.code != 200 {
				t.Fatalf("%s%s: %d %s", n.cfg.NodeID, p, r.code, r.body)
			}
		}
	}
	fills := sumMetric(t, nodes, `classmesh_cache_fills_total{source="origin"}`) - before
	want := len(disagree) + len(agree)
	if fills != float64(want) {
		t.Errorf("origin fills = %v for %d segments (%d with disagreeing rings), want exactly one per segment", fills, want, len(disagree))
	}
	if fw := metricValue(t, b, "classmesh_fill_forwards_total"); fw != float64(len(disagree)) {
		t.Errorf("b forwarded %v requests, want %d", fw, len(disagree))
	}
	t.Logf("%d segments with disagreeing rings, %d agreeing: %v origin fills", len(disagree), len(agree), fills)
}
