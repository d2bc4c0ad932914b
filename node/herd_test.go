package node

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/classmesh/classmesh/node/vod"
)

// countingOrigin serves a directory over HTTP and counts Range requests.
type countingOrigin struct {
	fs     http.Handler
	ranges atomic.Int64
}

func (o *countingOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Range") != "" {
		o.ranges.Add(1)
	}
	o.fs.ServeHTTP(w, r)
}

// TestHerdFillsOncePerSegment: 5 nodes reading one HTTP origin, 1000
// concurrent requests for 50 cold segments spread over all nodes: exactly
// one origin fill per segment for the whole cluster.
func TestHerdFillsOncePerSegment(t *testing.T) {
	lib := copyDemo(t)
	o := &countingOrigin{fs: http.FileServer(http.Dir(lib))}
	srv := httptest.NewServer(o)
	defer srv.Close()

	const size = 5
	var nodes []*Node
	for i := range size {
		cfg := Config{OriginURL: srv.URL, ClusterSecret: testSecret, NodeID: fmt.Sprintf("n%d", i),
			SegmentTarget: 2 * time.Second, PeerTimeout: 5 * time.Second}
		if i > 0 {
			cfg.Join = []string{nodes[0].Cluster().Self().GossipAddr}
		}
		nodes = append(nodes, mustNewNode(t, cfg))
	}
	waitFor(t, "5 members everywhere", func() bool {
		for _, n := range nodes {
			if n.ring.Ring().Len() != size {
				return false
			}
		}
		return true
	})
	a, _ := nodes[0].Library().Asset("demo")
	if a.Status != vod.StatusReady {
		t.Fatalf("demo over HTTP: %s %s", a.Status, a.Reason)
	}
	var urls []string
	for _, r := range a.Renditions {
		for s := range r.Segments {
			urls = append(urls, fmt.Sprintf("/v/demo/%s/seg-%d.m4s", r.ID, s))
		}
	}
	if len(urls) < 50 {
		t.Fatalf("only %d segments", len(urls))
	}
	urls = urls[:50]
	rangesBefore := o.ranges.Load()

	const requests = 1000
	// Request i asks node i%5 for segment (i/5)%50: every segment is asked
	// of every node.
	reqs := make([]string, requests)
	for i := range reqs {
		reqs[i] = nodes[i%size].URL() + urls[(i/size)%len(urls)]
	}
	resps := getAll(t, reqs)
	for i, r := range resps {
		if r.code != 200 {
			t.Fatalf("request %d (%s): status %d: %s", i, reqs[i], r.code, r.body)
		}
		if j := (i / size) % len(urls); !bytes.Equal(r.body, resps[j*size].body) {
			t.Fatalf("request %d got different bytes for %s", i, urls[j])
		}
	}
	fills := sumMetric(t, nodes, `classmesh_cache_fills_total{source="origin"}`)
	if fills != float64(len(urls)) {
		t.Errorf("origin fills across 5 nodes = %v, want exactly %d (one per segment)", fills, len(urls))
	}
	t.Logf("%d requests, %d segments: %v origin fills, %v peer fills, %d origin Range requests",
		requests, len(urls), fills, sumMetric(t, nodes, `classmesh_cache_fills_total{source="peer"}`), o.ranges.Load()-rangesBefore)
}
