package relay

import (
	"context"
	"errors"
	"testing"
	"time"
)

// ryLocal is a node whose relay runs on a fake clock, for policy tests
// that never leave the process.
func ryLocal(t *testing.T, mod func(*RelayConfig)) (*ryNode, *ryClock) {
	clk := newRYClock()
	n := ryNewNode(t, "local", func(c *RelayConfig) {
		c.Now = clk.Now
		if mod != nil {
			mod(c)
		}
	})
	return n, clk
}

// ryWriteGroups writes objects 0..per-1 of each group in groups.
func ryWriteGroups(p *TrackPublisher, per int, groups ...uint64) {
	for _, g := range groups {
		for id := range uint64(per) {
			p.Write(ryObj(g, id, 16))
		}
	}
}

func TestRelayLocalLateJoiner(t *testing.T) {
	n, _ := ryLocal(t, nil)
	p := ryPublish(t, n, "s/v")
	p.SetInit([]byte("I1"))
	ryWriteGroups(p, 3, 1, 2, 3, 4)
	ryWriteGroups(p, 2, 5)
	s := rySubscribe(t, n, "", "s/v")
	ryExpect(t, s, "init:I1", "4/0", "4/1", "4/2", "5/0", "5/1")
	p.Write(ryObj(5, 2, 16))
	p.Write(ryObj(6, 0, 16))
	ryExpect(t, s, "5/2", "6/0")
	p.Close()
	ryExpectEnd(t, s, ErrTrackEnded)
}

func TestRelayLocalInitBeforeObjects(t *testing.T) {
	n, _ := ryLocal(t, nil)
	p := ryPublish(t, n, "s/v")
	early := rySubscribe(t, n, "", "s/v")
	p.SetInit([]byte("A"))
	ryExpect(t, early, "init:A") // before any object
	p.SetInit([]byte("A"))       // same bytes: no change
	p.Write(ryObj(1, 0, 8))
	p.SetInit([]byte("B"))
	p.Write(ryObj(1, 1, 8))
	p.Write(Object{Init: true, Payload: []byte("B")})
	p.Write(ryObj(2, 0, 8))
	ryExpect(t, early, "1/0", "init:B", "1/1", "2/0")
	late := rySubscribe(t, n, "", "s/v")
	ryExpect(t, late, "init:A", "1/0", "init:B", "1/1", "2/0")
}

func TestRelayLocalWriteRules(t *testing.T) {
	n, _ := ryLocal(t, func(c *RelayConfig) { c.MaxPayload = 64 })
	p := ryPublish(t, n, "s/v")
	s := rySubscribe(t, n, "", "s/v")
	p.Write(ryObj(2, 5, 8))
	p.Write(ryObj(2, 5, 8))  // duplicate
	p.Write(ryObj(2, 4, 8))  // out of order
	p.Write(ryObj(1, 9, 8))  // stale group
	p.Write(ryObj(2, 6, 65)) // too large
	p.Write(ryObj(2, 7, 8))
	ryExpect(t, s, "2/5", "2/7")
	for reason, want := range map[string]float64{"duplicate": 2, "stale": 1, "too_large": 1} {
		if got := n.droppedCount(reason); got != want {
			t.Errorf("dropped{%s} = %v, want %v", reason, got, want)
		}
	}
	if _, err := n.relay.Publish("s/v"); !errors.Is(err, ErrTrackExists) {
		t.Fatalf("second Publish: %v", err)
	}
	p.Close()
	p.Write(ryObj(3, 0, 8)) // after close: dropped, no panic
	ryExpectEnd(t, s, ErrTrackEnded)
	p2 := ryPublish(t, n, "s/v") // publishable again
	p2.Close()
}

// TestRelayLocalSlowSubscriber checks the newest-data-first policy on a
// subscriber that stops reading: it never holds the publisher back and
// skips to the newest group instead of replaying stale ones.
func TestRelayLocalSlowSubscriber(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stall  func(p *TrackPublisher, clk *ryClock)
		want   []string
		reason string // why group 1 is cancelled ("" = it is not)
		skip   float64
	}{{
		name: "superseded",
		stall: func(p *TrackPublisher, clk *ryClock) {
			clk.Advance(4 * time.Second)
			ryWriteGroups(p, 3, 2, 3) // group 2 is skipped
		},
		want:   []string{"3/0", "3/1", "3/2"},
		reason: leaveTimeout,
		skip:   3,
	}, {
		name:  "behind but in time",
		stall: func(p *TrackPublisher, _ *ryClock) { ryWriteGroups(p, 1, 2, 3) },
		want:  []string{"1/1", "1/2", "2/0", "3/0"},
	}, {
		name: "timeout",
		stall: func(p *TrackPublisher, clk *ryClock) {
			clk.Advance(4 * time.Second) // objects 1/1 and 1/2 waited too long
			p.Write(ryObj(2, 0, 16))
		},
		want:   []string{"2/0"},
		reason: leaveTimeout,
	}, {
		name:   "evicted",
		stall:  func(p *TrackPublisher, _ *ryClock) { ryWriteGroups(p, 1, 2, 3, 4) },
		want:   []string{"4/0"},
		reason: leaveEvicted,
		skip:   2, // groups 2 and 3
	}} {
		t.Run(tc.name, func(t *testing.T) {
			n, clk := ryLocal(t, nil)
			p := ryPublish(t, n, "s/v")
			s := rySubscribe(t, n, "", "s/v")
			ryWriteGroups(p, 3, 1)
			ryExpect(t, s, "1/0")
			tc.stall(p, clk)
			ryExpect(t, s, tc.want...)
			if tc.reason == "" {
				return
			}
			if n.cancelled(tc.reason) != 1 || n.droppedCount(tc.reason) != 2 {
				t.Fatalf("cancelled{%s} = %v, dropped = %v; want 1, 2", tc.reason,
					n.cancelled(tc.reason), n.droppedCount(tc.reason))
			}
			if got := n.droppedCount(leaveSuperseded); got != tc.skip {
				t.Fatalf("dropped{superseded} = %v, want %v", got, tc.skip)
			}
		})
	}
}

func TestRelayLocalByteBudget(t *testing.T) {
	n, _ := ryLocal(t, func(c *RelayConfig) { c.CacheBytes = 1000 })
	p := ryPublish(t, n, "s/v")
	s := rySubscribe(t, n, "", "s/v")
	for id := range uint64(10) {
		p.Write(ryObj(1, id, 200)) // one group of 2000 bytes: its front is trimmed
	}
	h := s.h
	h.mu.Lock()
	bytes, base := h.bytes, h.groups[0].base
	h.mu.Unlock()
	if bytes > 1000 || base == 0 {
		t.Fatalf("cache holds %d bytes, base %d", bytes, base)
	}
	// The subscriber started at 1/0, which is gone: it waits for group 2.
	p.Write(ryObj(2, 0, 10))
	ryExpect(t, s, "2/0")
	late := rySubscribe(t, n, "", "s/v")
	p.Write(ryObj(3, 0, 10))
	ryExpect(t, late, "2/0", "3/0")
}

func TestRelayLocalCloseAndContext(t *testing.T) {
	n, _ := ryLocal(t, nil)
	ryPublish(t, n, "s/v")
	s := rySubscribe(t, n, "", "s/v")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next on idle track: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := s.Next(context.Background()); done <- err }()
	s.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
	if got := n.subscribers("s/v"); got != 0 {
		t.Fatalf("subscribers = %v after Close", got)
	}
	if _, err := n.relay.Subscribe(context.Background(), "", "nope"); !errors.Is(err, ErrTrackNotFound) {
		t.Fatalf("unknown local track: %v", err)
	}
	if _, err := n.relay.Subscribe(context.Background(), "", ""); err == nil {
		t.Fatal("empty track accepted")
	}
}

// TestRelayLocalUpstreamGroups drives a hub the way the upstream reader
// does: a group is complete only when its stream ends, and a group whose
// stream never ends does not hold newer data back past the timeout.
func TestRelayLocalUpstreamGroups(t *testing.T) {
	n, clk := ryLocal(t, nil)
	h := newRelayHub("s/v", &n.relay.cfg, n.relay.m, true)
	add := func(g *relayGroup, id uint64) {
		t.Helper()
		o := ryObj(g.id, id, 8)
		if reason := h.groupObject(g, o, clk.Now()); reason != "" {
			t.Fatalf("groupObject %d/%d: %s", g.id, id, reason)
		}
	}
	open := func(id uint64) *relayGroup {
		t.Helper()
		g, reason := h.openGroup(id)
		if g == nil {
			t.Fatalf("openGroup %d: %s", id, reason)
		}
		return g
	}
	g1 := open(1)
	add(g1, 0)
	s := newSubscription(n.relay, h)
	ryExpect(t, s, "1/0")
	g2 := open(2)
	add(g2, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if o, err := s.Next(ctx); err == nil {
		t.Fatalf("got %s before group 1 ended", ryKey(o))
	}
	add(g1, 1) // the tail of group 1 still arrives in order
	h.closeGroup(g1)
	ryExpect(t, s, "1/1", "2/0")
	// Group 2 never ends; group 3's data ages past the timeout.
	g3 := open(3)
	add(g3, 0)
	clk.Advance(4 * time.Second)
	g4 := open(4)
	add(g4, 0)
	ryExpect(t, s, "4/0")
	if got := n.cancelled(leaveTimeout); got < 1 {
		t.Fatalf("cancelled{timeout} = %v", got)
	}
	if _, reason := h.openGroup(4); reason != "duplicate" {
		t.Fatalf("reopen group 4: %q", reason)
	}
	open(5)
	open(6)
	if _, reason := h.openGroup(1); reason != "stale" {
		t.Fatalf("group older than the cache: %q", reason)
	}
}
