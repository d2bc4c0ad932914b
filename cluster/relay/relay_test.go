package relay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/classmesh/classmesh/cluster/internal/clustertest"
)

func TestRelayRemotePublishSubscribe(t *testing.T) {
	origin, edge := ryNewNode(t, "origin", nil), ryNewNode(t, "edge", nil)
	p := ryPublish(t, origin, "sess1/video")
	p.SetInit([]byte("I1"))
	remote := rySubscribe(t, edge, origin.addr, "sess1/video")
	local := rySubscribe(t, origin, "", "sess1/video")
	ryWriteGroups(p, 3, 1, 2)
	p.SetInit([]byte("I2"))
	p.Write(ryObj(3, 0, 100_000))
	p.Write(ryObj(3, 1, 10))
	for i, s := range []*Subscription{remote, local} {
		t.Logf("subscriber %d", i)
		ryExpect(t, s, "init:I1", "1/0", "1/1", "1/2", "2/0", "2/1", "2/2", "init:I2", "3/0", "3/1")
	}
	p.Close()
	ryExpectEnd(t, remote, ErrTrackEnded)
	ryExpectEnd(t, local, ErrTrackEnded)
	if sent := clustertest.Value(origin.relay.m.bytes.WithLabelValues("sent")); sent < 100_000 {
		t.Fatalf("bytes sent = %v", sent)
	}
	if got := clustertest.Value(edge.relay.m.bytes.WithLabelValues("received")); got < 100_000 {
		t.Fatalf("bytes received = %v", got)
	}
	// After the end the track is gone; it can be published again.
	if _, err := edge.relay.Subscribe(ryCtx(t), origin.addr, "sess1/video"); !errors.Is(err, ErrTrackNotFound) {
		t.Fatalf("subscribe after end: %v", err)
	}
	p2 := ryPublish(t, origin, "sess1/video")
	again := rySubscribe(t, edge, origin.addr, "sess1/video")
	p2.Write(ryObj(7, 0, 10))
	ryExpect(t, again, "7/0")
}

func TestRelayRemoteLateJoiner(t *testing.T) {
	origin, edge := ryNewNode(t, "origin", nil), ryNewNode(t, "edge", nil)
	p := ryPublish(t, origin, "s/v")
	p.SetInit([]byte("I"))
	ryWriteGroups(p, 3, 1, 2, 3, 4)
	ryWriteGroups(p, 2, 5)
	s := rySubscribe(t, edge, origin.addr, "s/v")
	ryExpect(t, s, "init:I", "4/0", "4/1", "4/2", "5/0", "5/1")
	p.Write(ryObj(5, 2, 10))
	p.Write(ryObj(6, 0, 10))
	ryExpect(t, s, "5/2", "6/0")
	// A second subscriber on the edge shares the upstream and gets the
	// edge's own cache: newest complete group 5, then 6.
	s2 := rySubscribe(t, edge, origin.addr, "s/v")
	ryExpect(t, s2, "init:I", "5/0", "5/1", "5/2", "6/0")
	if open, opened := edge.upstreams(); open != 1 || opened != 1 {
		t.Fatalf("edge upstreams open=%v opened=%v, want 1 1", open, opened)
	}
}

func TestRelayUnknownTrack(t *testing.T) {
	origin := ryNewNode(t, "origin", nil)
	edge := ryNewNode(t, "edge", func(c *RelayConfig) { c.ConnectTimeout = 500 * time.Millisecond })
	for _, tc := range []struct {
		from, track string
		want        error
	}{
		{origin.addr, "nope/video", ErrTrackNotFound},
		{"", "nope/video", ErrTrackNotFound},
		{origin.addr, "bad\ntrack", ErrRelayRefused},
		{"127.0.0.1:1", "x", ErrRelayUpstream}, // nobody listens there
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := edge.relay.Subscribe(ctx, tc.from, tc.track)
		cancel()
		if !errors.Is(err, tc.want) {
			t.Errorf("Subscribe(%q, %q) = %v, want %v", tc.from, tc.track, err, tc.want)
		}
	}
	if open, _ := edge.upstreams(); open != 0 || edge.subscribers("nope/video") != 0 {
		t.Fatalf("failed subscriptions left state: upstreams %v", open)
	}
}

func TestRelayTwoHopTree(t *testing.T) {
	ingest := ryNewNode(t, "ingest", nil)
	a := ryNewNode(t, "relay-a", nil)
	b := ryNewNode(t, "edge-b", nil)
	a.relay.SetResolver(func(track string) (string, bool) { return ingest.addr, true })
	p := ryPublish(t, ingest, "s/v")
	p.SetInit([]byte("I"))
	s := rySubscribe(t, b, a.addr, "s/v")
	ryWriteGroups(p, 2, 1, 2)
	ryExpect(t, s, "init:I", "1/0", "1/1", "2/0", "2/1")
	if open, _ := a.upstreams(); open != 1 {
		t.Fatalf("relay A upstreams = %v", open)
	}
	if got := ingest.subscribers("s/v"); got != 1 {
		t.Fatalf("ingest subscribers = %v, want 1 (relay A)", got)
	}
	p.Close()
	ryExpectEnd(t, s, ErrTrackEnded)
	ryEventually(t, "upstreams closed after the end", func() bool {
		ao, _ := a.upstreams()
		bo, _ := b.upstreams()
		return ao == 0 && bo == 0
	})
}

func TestRelayOneUpstreamPerEdge(t *testing.T) {
	ingest := ryNewNode(t, "ingest", nil)
	p := ryPublish(t, ingest, "s/v")
	const edges, perEdge = 3, 10
	var nodes []*ryNode
	subs := make([][]*Subscription, edges)
	for e := range edges {
		n := ryNewNode(t, fmt.Sprintf("edge-%d", e), nil)
		nodes = append(nodes, n)
		subs[e] = make([]*Subscription, perEdge)
		var wg sync.WaitGroup
		for i := range perEdge { // concurrent first subscribers share one dial
			wg.Go(func() {
				s, err := n.relay.Subscribe(ryCtx(t), ingest.addr, "s/v")
				if err != nil {
					t.Error(err)
					return
				}
				subs[e][i] = s
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
	}
	ryWriteGroups(p, 2, 1, 2)
	for e := range edges {
		for _, s := range subs[e] {
			ryExpect(t, s, "1/0", "1/1", "2/0", "2/1")
		}
		if open, opened := nodes[e].upstreams(); open != 1 || opened != 1 {
			t.Fatalf("edge %d: upstreams open=%v opened=%v, want 1 1", e, open, opened)
		}
		if got := nodes[e].subscribers("s/v"); got != perEdge {
			t.Fatalf("edge %d: subscribers = %v", e, got)
		}
	}
	if got := ingest.subscribers("s/v"); got != edges {
		t.Fatalf("ingest subscribers = %v, want %d", got, edges)
	}
	// The last subscriber of edge 0 leaving closes its upstream only.
	for _, s := range subs[0] {
		s.Close()
	}
	ryEventually(t, "edge 0 upstream closed", func() bool {
		open, _ := nodes[0].upstreams()
		return open == 0 && ingest.subscribers("s/v") == edges-1
	})
	for e := 1; e < edges; e++ {
		for _, s := range subs[e] {
			s.Close()
		}
	}
	ryEventually(t, "ingest without subscribers", func() bool {
		return ingest.subscribers("s/v") == 0 && ingest.tr.Active() == 0
	})
}

func TestRelayUnsubscribeClosesUpstream(t *testing.T) {
	origin, edge := ryNewNode(t, "origin", nil), ryNewNode(t, "edge", nil)
	p := ryPublish(t, origin, "s/v")
	s := rySubscribe(t, edge, origin.addr, "s/v")
	p.Write(ryObj(1, 0, 10))
	ryExpect(t, s, "1/0")
	s.Close()
	ryEventually(t, "upstream closed", func() bool {
		open, _ := edge.upstreams()
		return open == 0 && origin.subscribers("s/v") == 0 && origin.tr.Active() == 0
	})
	// Publishing on goes nowhere and never blocks.
	ryWriteGroups(p, 3, 2, 3, 4)
	// A new subscriber opens a new upstream subscription.
	s2 := rySubscribe(t, edge, origin.addr, "s/v")
	ryExpect(t, s2, "3/0", "3/1", "3/2", "4/0", "4/1", "4/2")
	p.Write(ryObj(5, 0, 10))
	ryExpect(t, s2, "5/0")
	if _, opened := edge.upstreams(); opened != 2 {
		t.Fatalf("upstreams opened = %v, want 2", opened)
	}
}

func TestRelayLoopRefused(t *testing.T) {
	a, b := ryNewNode(t, "node-a", nil), ryNewNode(t, "node-b", nil)
	a.relay.SetResolver(func(string) (string, bool) { return b.addr, true })
	b.relay.SetResolver(func(string) (string, bool) { return a.addr, true })
	_, err := b.relay.Subscribe(ryCtx(t), a.addr, "s/v")
	if !errors.Is(err, ErrRelayRefused) {
		t.Fatalf("subscribe through a loop: %v", err)
	}
	// Subscribing through oneself is a loop too.
	if _, err := a.relay.Subscribe(ryCtx(t), a.addr, "s/v"); !errors.Is(err, ErrRelayRefused) {
		t.Fatalf("subscribe through self: %v", err)
	}
}

func TestRelayCloseEndsSubscribers(t *testing.T) {
	origin, edge := ryNewNode(t, "origin", nil), ryNewNode(t, "edge", nil)
	p := ryPublish(t, origin, "s/v")
	remote := rySubscribe(t, edge, origin.addr, "s/v")
	local := rySubscribe(t, origin, "", "s/v")
	p.Write(ryObj(1, 0, 10))
	ryExpect(t, remote, "1/0")
	ryExpect(t, local, "1/0")
	if err := origin.relay.Close(); err != nil {
		t.Fatal(err)
	}
	ryExpectEnd(t, local, ErrClosed)
	ryExpectEnd(t, remote, ErrRelayUpstream)
	if _, err := origin.relay.Publish("x"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish after Close: %v", err)
	}
	if err := edge.relay.Close(); err != nil {
		t.Fatal(err)
	}
	ryExpectEnd(t, remote, ErrRelayUpstream) // the track's end stays
}

func ryCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// ryEventually polls cond until it holds, failing after 10 s.
func ryEventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
