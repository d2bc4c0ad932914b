package node

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestBrowserP2PFromOneEdge: two real Chromium pages play the demo from one
// edge; the second takes at least half of its segment bytes from the first
// over WebRTC. Both the page's statistics and the edge's own accounting
// (bytes played from peers, reported by viewers, against bytes the edge
// served) show it.
func TestBrowserP2PFromOneEdge(t *testing.T) {
	nodeBin := requireBrowser(t)
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, "test/p2p.mjs", "--url", n.URL()+"/watch/demo?autoplay=1&muted=1",
		"--seconds", "14", "--delay", "6", "--out", artifactsDir(t), "--min-peer-share", "0.5")
	cmd.Dir = "../player"
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	t.Logf("p2p.mjs: %s", out.String())
	if err != nil {
		t.Fatalf("two-page peer test failed: %v\n%s", err, stderr.String())
	}
	var res struct {
		B struct {
			BytesFromPeers float64 `json:"bytesFromPeers"`
			BytesFromHTTP  float64 `json:"bytesFromHTTP"`
			HashFailures   float64 `json:"hashFailures"`
		} `json:"b"`
	}
	line := strings.TrimSpace(out.String())
	if i := strings.LastIndex(line, "\n"); i >= 0 {
		line = line[i+1:]
	}
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("p2p.mjs output: %v", err)
	}
	b := res.B
	if total := b.BytesFromPeers + b.BytesFromHTTP; total == 0 || b.BytesFromPeers < total/2 || b.HashFailures != 0 {
		t.Fatalf("page B: %+v", b)
	}
	// The edge's view: viewers reported at least page B's peer bytes as
	// played from peers, and the edge served less than was played. The
	// last reports may still be on their way over the tracker socket.
	waitFor(t, "the edge to count page B's peer bytes", func() bool {
		return metricValue(t, n, `classmesh_p2p_bytes_played_total{asset="demo",site="none",source="peer"}`) >= b.BytesFromPeers*0.99
	})
	peer := metricValue(t, n, `classmesh_p2p_bytes_played_total{asset="demo",site="none",source="peer"}`)
	httpPlayed := metricValue(t, n, `classmesh_p2p_bytes_played_total{asset="demo",site="none",source="http"}`)
	served := metricValue(t, n, `classmesh_p2p_bytes_served_http_total{asset="demo",site="none"}`)
	t.Logf("edge: played from peers %.0f, over HTTP %.0f; served %.0f; page B from peers %.0f of %.0f",
		peer, httpPlayed, served, b.BytesFromPeers, b.BytesFromPeers+b.BytesFromHTTP)
	if peer < b.BytesFromPeers*0.99 || served >= peer+httpPlayed {
		t.Fatalf("edge offload accounting: peer %.0f http %.0f served %.0f", peer, httpPlayed, served)
	}
	if ratio := metricValue(t, n, `classmesh_p2p_offload_ratio{asset="demo"}`); ratio <= 0 {
		t.Fatalf("offload ratio %v", ratio)
	}
}
