package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"testing"
)

func TestRunPeer(t *testing.T) {
	c := newFakeCluster(t)
	var paths []string
	for s := range 10 {
		paths = append(paths, fmt.Sprintf("/v/a/1080p/seg-%d.m4s", s))
	}
	res, err := runPeer(context.Background(), http.DefaultClient, []string{c.url(0), c.url(1) + "/"}, paths)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(c.body))
	checks := []struct {
		name      string
		got, want float64
	}{
		{"paths", float64(res.Paths), 10},
		{"measured (probe owns even segments)", float64(res.Measured), 5},
		{"skipped", float64(res.Skipped), 5},
		{"anomalies", float64(res.Anomalies), 0},
		{"errors", float64(res.Errors), 0},
		{"peer requests", float64(res.Peer.Requests), 5},
		{"local requests", float64(res.Local.Requests), 5},
		{"peer bytes", float64(res.PeerBytes), float64(5 * size)},
		{"fill bytes", res.FillBytes, float64(5 * size)},
		{"fill seconds", math.Round(res.FillSeconds * 1000), 5},
		{"fill MB/s", math.Round(res.FillMBps * 1e6), math.Round(float64(5*size) / 0.005 * 1e6 / 1e6)},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			if ck.got != ck.want {
				t.Fatalf("got %v, want %v (result %+v)", ck.got, ck.want, res)
			}
		})
	}
	if res.Peer.TTLBp99ms < res.Peer.TTLBp50ms || res.Peer.TTLBp50ms < res.Peer.TTFBp50ms {
		t.Fatalf("inconsistent percentiles: %+v", res.Peer)
	}
}

func TestRunPeerNodes(t *testing.T) {
	for _, nodes := range [][]string{nil, {"http://a"}, {"http://a", "http://b", "http://c"}} {
		t.Run(fmt.Sprint(len(nodes)), func(t *testing.T) {
			if _, err := runPeer(context.Background(), http.DefaultClient, nodes, []string{"/x"}); !errors.Is(err, errPeerNodes) {
				t.Fatalf("err = %v, want errPeerNodes", err)
			}
		})
	}
}

func TestRunPeerNotFound(t *testing.T) {
	c := newFakeCluster(t)
	res, err := runPeer(context.Background(), http.DefaultClient, []string{c.url(0), c.url(1)}, []string{"/nope"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 1 || res.Measured != 0 {
		t.Fatalf("result %+v, want one error", res)
	}
}
