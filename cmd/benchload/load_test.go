package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRunLoadHerd(t *testing.T) {
	// 40 requests over 4 segments: each segment asked 5 times from each of
	// the two nodes. Every case runs against a fresh (cold) fake cluster.
	tests := []struct {
		name         string
		o            options
		upLog, upM   bool // count the origin log; node 0's requests
		fills, up    float64
		fillsPerURL  float64
		upPerURL     float64
		distinctURLs int
	}{
		{"origin fills and upstream log", options{mode: "storm", clients: 40, fillSource: "origin", unique: 4}, true, false,
			4, 4, 1, 1, 8},
		{"peer fills", options{mode: "storm", clients: 40, fillSource: "peer", unique: 4}, false, false,
			4, 0, 1, 0, 8},
		{"all fills, upstream metrics of node 0", options{mode: "cold", conc: 4}, false, true,
			8, 20, 1, 2.5, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeCluster(t)
			var urls []string
			for i := range 40 {
				urls = append(urls, fmt.Sprintf("%s/v/a/1080p/seg-%d.m4s", c.url(i/4%2), i%4))
			}
			o := tt.o
			o.metrics = []string{c.url(0) + "/metrics", c.url(1) + "/metrics"}
			if tt.upM {
				o.upMetrics = o.metrics[:1]
			}
			if tt.upLog {
				o.upLog = c.originLog
			}
			res := runLoad(context.Background(), http.DefaultClient, o, urls)
			if res.Errors != 0 || res.Requests != 40 || res.Bytes != int64(40*len(c.body)) {
				t.Fatalf("result %+v", res)
			}
			if res.Fills != tt.fills || res.FillsPerURL != tt.fillsPerURL || res.Upstream != tt.up ||
				res.UpstreamPerURL != tt.upPerURL || res.DistinctURLs != tt.distinctURLs {
				t.Fatalf("fills %v (%v/url), upstream %v (%v/url), distinct %d; want %v (%v), %v (%v), %d",
					res.Fills, res.FillsPerURL, res.Upstream, res.UpstreamPerURL, res.DistinctURLs,
					tt.fills, tt.fillsPerURL, tt.up, tt.upPerURL, tt.distinctURLs)
			}
		})
	}
}

func TestCountLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(p, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want int
	}{{p, 3}, {"", 0}, {p + ".missing", 0}}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := countLines(tt.path); got != tt.want {
				t.Fatalf("countLines = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPct(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(101-i)*time.Millisecond)
	}
	tests := []struct {
		p    int
		want float64
	}{{50, 50}, {99, 99}, {100, 100}, {1, 1}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.p), func(t *testing.T) {
			if got := pct(d, tt.p); got != tt.want {
				t.Fatalf("pct(%d) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
	if pct(nil, 50) != 0 {
		t.Fatal("pct of nothing should be 0")
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-mode", "peer", "-nodes", "http://a, http://b,", "-metrics", "m1,m2", "-fill-source", "origin", "-unique", "50"})
	if err != nil {
		t.Fatal(err)
	}
	if o.mode != "peer" || len(o.nodes) != 2 || o.nodes[1] != "http://b" || len(o.metrics) != 2 || o.fillSource != "origin" || o.unique != 50 {
		t.Fatalf("options %+v", o)
	}
	if _, err := parseFlags([]string{"-nope"}); err == nil {
		t.Fatal("unknown flag accepted")
	}
}
