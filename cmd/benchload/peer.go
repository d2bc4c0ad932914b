package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"
)

// latency is the percentile summary of one group of requests.
type latency struct {
	Requests  int     `json:"requests"`
	TTFBp50ms float64 `json:"ttfb_p50_ms"`
	TTFBp99ms float64 `json:"ttfb_p99_ms"`
	TTLBp50ms float64 `json:"ttlb_p50_ms"`
	TTLBp99ms float64 `json:"ttlb_p99_ms"`
}

// peerResult is the output of -mode peer.
type peerResult struct {
	Mode string `json:"mode"`
	// Paths is the number of segments tried; Measured those the probe node
	// owns (the probe was an origin fill there), Skipped those the other
	// node owns (the probe was a peer fill: both nodes are warm, nothing
	// left to measure). Anomalies counts measured segments whose request
	// to the other node was not a peer fill.
	Paths     int     `json:"paths"`
	Measured  int     `json:"measured"`
	Skipped   int     `json:"skipped"`
	Anomalies int     `json:"anomalies"`
	Errors    int     `json:"errors"`
	Peer      latency `json:"peer"`  // non-owner, cold: fetched from the owner over QUIC
	Local     latency `json:"local"` // the same node again: its own cache
	// PeerBytes and PeerSeconds are the body bytes and time to last byte
	// of the peer requests as the HTTP client saw them; PeerHTTPMBps is
	// their ratio in MB/s (10^6 bytes).
	PeerBytes    int64   `json:"peer_bytes"`
	PeerSeconds  float64 `json:"peer_seconds"`
	PeerHTTPMBps float64 `json:"peer_http_mbps"`
	// FillBytes and FillSeconds come from the non-owner's
	// classmesh_peer_fill_bytes_total{role="client"} and
	// classmesh_peer_fill_seconds_sum: the QUIC transfer alone.
	FillBytes   float64 `json:"fill_bytes"`
	FillSeconds float64 `json:"fill_seconds"`
	FillMBps    float64 `json:"fill_mbps"`
	WallSeconds float64 `json:"wall_seconds"`
}

// errPeerNodes reports a -nodes list that is not two base URLs.
var errPeerNodes = errors.New("benchload: -mode peer needs -nodes A,B (two base URLs)")

// runPeer measures, for each path, a segment served to the second node by
// its owner over QUIC and then from the second node's own cache. It finds
// the owner by trying: the path is requested from the first (probe) node;
// when that request was not a peer fill the probe node owns the segment
// and now holds it warm, so the second node's first request travels over
// QUIC and its second one is a local hit. Requests run one at a time.
func runPeer(ctx context.Context, client *http.Client, nodes, paths []string) (peerResult, error) {
	res := peerResult{Mode: "peer", Paths: len(paths)}
	if len(nodes) != 2 {
		return res, errPeerNodes
	}
	probe, other := strings.TrimSuffix(nodes[0], "/"), strings.TrimSuffix(nodes[1], "/")
	sc := scraper{client: client}
	probeM, otherM := []string{probe + "/metrics"}, []string{other + "/metrics"}
	fillBytes0 := sc.counter(otherM, `classmesh_peer_fill_bytes_total{role="client"}`)
	fillSecs0 := sc.histogramSum(otherM, "classmesh_peer_fill_seconds")
	start := time.Now()
	var peerS, localS []sample
	for _, p := range paths {
		if ctx.Err() != nil {
			res.Errors++
			break
		}
		before := sc.fills(probeM, "peer")
		if s := fetch(ctx, client, probe+p); s.err != nil {
			res.Errors++
			fmt.Fprintln(os.Stderr, "benchload:", s.err)
			continue
		}
		if sc.fills(probeM, "peer") > before {
			res.Skipped++
			continue
		}
		res.Measured++
		otherBefore := sc.fills(otherM, "peer")
		first := fetch(ctx, client, other+p)
		peerFill := sc.fills(otherM, "peer") > otherBefore
		second := fetch(ctx, client, other+p)
		if first.err != nil || second.err != nil {
			res.Errors++
			fmt.Fprintln(os.Stderr, "benchload:", errors.Join(first.err, second.err))
			continue
		}
		if !peerFill {
			res.Anomalies++
			continue
		}
		peerS, localS = append(peerS, first), append(localS, second)
	}
	res.WallSeconds = time.Since(start).Seconds()
	res.Peer, res.Local = summarizeLatency(peerS), summarizeLatency(localS)
	for _, s := range peerS {
		res.PeerBytes += s.n
		res.PeerSeconds += s.ttlb.Seconds()
	}
	res.PeerHTTPMBps = mbps(float64(res.PeerBytes), res.PeerSeconds)
	res.FillBytes = sc.counter(otherM, `classmesh_peer_fill_bytes_total{role="client"}`) - fillBytes0
	res.FillSeconds = sc.histogramSum(otherM, "classmesh_peer_fill_seconds") - fillSecs0
	res.FillMBps = mbps(res.FillBytes, res.FillSeconds)
	return res, nil
}

func summarizeLatency(samples []sample) latency {
	r := summarize("", samples, 0)
	return latency{Requests: len(samples), TTFBp50ms: r.TTFBp50ms, TTFBp99ms: r.TTFBp99ms, TTLBp50ms: r.TTLBp50ms, TTLBp99ms: r.TTLBp99ms}
}

func mbps(bytes, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return bytes / seconds / 1e6
}
