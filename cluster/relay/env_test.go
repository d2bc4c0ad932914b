package relay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/classmesh/classmesh/cluster/internal/clustertest"
	"github.com/classmesh/classmesh/cluster/transport"
)

// ryNode is one started node with a relay, its own registry and the
// shared test CA.
type ryNode struct {
	id    string
	tr    *transport.Transport
	relay *Relay
	addr  string
}

func ryNewNode(t testing.TB, id string, mod func(*RelayConfig)) *ryNode {
	t.Helper()
	tr := clustertest.Transport(t, id)
	cfg := DefaultRelayConfig()
	cfg.Registerer = prometheus.NewRegistry()
	if mod != nil {
		mod(&cfg)
	}
	r, err := NewRelay(tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return &ryNode{id: id, tr: tr, relay: r, addr: tr.Addr().String()}
}

// upstreams returns the open upstream subscriptions and how many were
// ever opened.
func (n *ryNode) upstreams() (open, opened float64) {
	return clustertest.Value(n.relay.m.upstreams), clustertest.Value(n.relay.m.upstreamOpened)
}

// subscribers returns the subscriber gauge of track (0 when absent).
func (n *ryNode) subscribers(track string) float64 {
	n.relay.mu.Lock()
	defer n.relay.mu.Unlock()
	return float64(n.relay.perTrack[track])
}

func (n *ryNode) cancelled(reason string) float64 {
	return clustertest.Value(n.relay.m.cancelled.WithLabelValues(reason))
}

func (n *ryNode) droppedCount(reason string) float64 {
	return clustertest.Value(n.relay.m.dropped.WithLabelValues(reason))
}

// ryObj builds the object (group, id) of track with a recognisable body.
func ryObj(group, id uint64, size int) Object {
	p := make([]byte, size)
	copy(p, fmt.Sprintf("g%d/o%d", group, id))
	return Object{Group: group, ID: id, Header: []byte(fmt.Sprintf("h%d.%d", group, id)), Payload: p}
}

// ryKey names an object as "g/id", or "init:<payload>" for init objects.
func ryKey(o Object) string {
	if o.Init {
		return "init:" + string(o.Payload)
	}
	return fmt.Sprintf("%d/%d", o.Group, o.ID)
}

// ryNext reads the next object or fails the test.
func ryNext(t testing.TB, s *Subscription) Object {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return o
}

// ryExpect reads len(want) objects and compares their keys, and for
// objects their header and payload prefix.
func ryExpect(t testing.TB, s *Subscription, want ...string) {
	t.Helper()
	for i, w := range want {
		o := ryNext(t, s)
		if got := ryKey(o); got != w {
			t.Fatalf("object %d: got %s, want %s", i, got, w)
		}
		if o.Init {
			continue
		}
		if o.Track != s.Track() || string(o.Header) != fmt.Sprintf("h%d.%d", o.Group, o.ID) {
			t.Fatalf("object %s: track %q header %q", w, o.Track, o.Header)
		}
		if p := fmt.Sprintf("g%d/o%d", o.Group, o.ID); len(o.Payload) < len(p) || string(o.Payload[:len(p)]) != p {
			t.Fatalf("object %s: payload does not match", w)
		}
	}
}

// ryExpectEnd expects err (errors.Is) from the next Next.
func ryExpectEnd(t testing.TB, s *Subscription, want error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o, err := s.Next(ctx)
	if !errors.Is(err, want) {
		t.Fatalf("Next = %s, %v; want %v", ryKey(o), err, want)
	}
}

// rySubscribe subscribes or fails the test; the subscription is closed at
// cleanup.
func rySubscribe(t testing.TB, n *ryNode, from, track string) *Subscription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := n.relay.Subscribe(ctx, from, track)
	if err != nil {
		t.Fatalf("%s: Subscribe(%s, %s): %v", n.id, from, track, err)
	}
	t.Cleanup(s.Close)
	return s
}

// ryPublish publishes track or fails the test.
func ryPublish(t testing.TB, n *ryNode, track string) *TrackPublisher {
	t.Helper()
	p, err := n.relay.Publish(track)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// ryClock is a settable clock.
type ryClock struct {
	mu sync.Mutex
	t  time.Time
}

func newRYClock() *ryClock { return &ryClock{t: time.Unix(1_700_000_000, 0)} }

func (c *ryClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *ryClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
