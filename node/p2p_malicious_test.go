package node

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/classmesh/classmesh/p2p/peer"
)

// TestBrowserRejectsMaliciousPeer: Go peers that hold the demo's segments
// and corrupt every byte they serve sit in every video swarm before a
// Chromium page starts playing. Every corrupted segment the page receives
// is caught by its SHA-256 check (no peer byte is accepted, the edge
// counts the hash failures and drops the peer), hls.js reports no error,
// and playback goes on over HTTP.
func TestBrowserRejectsMaliciousPeer(t *testing.T) {
	nodeBin := requireBrowser(t)
	n := mustNewNode(t, Config{MediaDir: demoDir(t)})
	a, _ := n.Library().Asset("demo")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	api, err := peer.NewAPI(peer.APIConfig{Loopback: true, Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	ws := "ws" + strings.TrimPrefix(n.URL(), "http") + "/p2p/ws"
	var bad []*peer.Peer
	for _, r := range a.Renditions {
		if r.Kind.String() != "video" {
			continue
		}
		media := fmt.Sprintf("%s/v/demo/%s/media.m3u8", n.URL(), r.ID)
		p, err := peer.New(peer.Config{TrackerURL: ws, MediaURL: media, Upload: true, Malicious: true, API: api})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Close() })
		for seq := range min(len(r.Segments), 5) {
			url := fmt.Sprintf("%s/v/demo/%s/seg-%d.m4s", n.URL(), r.ID, seq)
			if _, err := p.Fetch(ctx, peer.Request{Seq: uint64(seq), URL: url}); err != nil {
				t.Fatalf("malicious peer fetch %s %d: %v", r.ID, seq, err)
			}
		}
		bad = append(bad, p)
	}

	cmd := exec.CommandContext(ctx, nodeBin, "test/play.mjs", "--url", n.URL()+"/watch/demo?autoplay=1&muted=1",
		"--seconds", "14", "--webrtc-loopback")
	cmd.Dir = "../player"
	out, err := cmd.Output()
	t.Logf("play.mjs: %s", out)
	if err != nil {
		t.Fatalf("playback with a malicious peer failed (hls.js error or stall): %v", err)
	}
	var res struct {
		P2P struct {
			BytesFromPeers float64 `json:"bytesFromPeers"`
			HashFailures   float64 `json:"hashFailures"`
		} `json:"p2p"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("play.mjs output: %v", err)
	}
	if res.P2P.HashFailures >= 1 { // the page's report may still be on its way
		waitFor(t, "the edge to count the page's hash failure", func() bool {
			return metricValue(t, n, "classmesh_p2p_hash_failures_total") >= 1
		})
	}
	failures := metricValue(t, n, "classmesh_p2p_hash_failures_total")
	t.Logf("page: %.0f hash failures, %.0f bytes from peers; edge: %.0f hash failures", res.P2P.HashFailures, res.P2P.BytesFromPeers, failures)
	if res.P2P.HashFailures < 1 || failures < 1 {
		t.Fatalf("the page never received a corrupted segment (page %v, edge %v): the test proves nothing", res.P2P.HashFailures, failures)
	}
	if res.P2P.BytesFromPeers != 0 {
		t.Fatalf("the page accepted %.0f bytes from peers, and every peer was malicious", res.P2P.BytesFromPeers)
	}
	if played := metricValue(t, n, `classmesh_p2p_bytes_played_total{asset="demo",site="none",source="peer"}`); played != 0 {
		t.Fatalf("edge counted %v bytes played from peers", played)
	}
}
