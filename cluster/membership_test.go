package cluster

import (
	"context"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/classmesh/classmesh/cluster/transport"
	"github.com/quic-go/quic-go"
)

func TestClusterThreeNodesSeeEachOther(t *testing.T) {
	a := mtStart(t, "node-a", nil)
	b := mtStart(t, "node-b", func(c *Config) { mtJoin(a)(c); c.Roles = []Role{RoleEdge}; c.Region = "us" })
	c := mtStart(t, "node-c", func(c *Config) { mtJoin(a)(c); c.Roles = []Role{RoleEdge, RoleOrigin} })
	mtWaitMembers(t, 3, a, b, c)
	for _, viewer := range []*mtNode{a, b, c} {
		ms := viewer.Members()
		if ids := []string{ms[0].ID, ms[1].ID, ms[2].ID}; !slices.Equal(ids, []string{"node-a", "node-b", "node-c"}) {
			t.Fatalf("%s: members %v not sorted by ID", viewer.ID(), ids)
		}
		for _, want := range []*mtNode{a, b, c} {
			t.Run(viewer.ID()+" sees "+want.ID(), func(t *testing.T) {
				got, ok := mtFind(ms, want.ID())
				if !ok {
					t.Fatal("missing")
				}
				self := want.Self()
				if !slices.Equal(got.Roles, self.Roles) || got.Region != self.Region || got.HTTPAddr != self.HTTPAddr ||
					got.QUICAddr != want.Transport().Addr().String() || got.GossipAddr != self.GossipAddr ||
					got.Version != "test" || got.State != StateAlive || got.Self != (viewer == want) {
					t.Fatalf("got %+v, want like %+v", got, self)
				}
			})
		}
	}
	if m, _ := mtFind(a.Members(), "node-b"); !m.Has(RoleEdge) || m.Has(RoleOrigin) {
		t.Fatalf("node-b roles %v", m.Roles)
	}
}

func TestClusterEvents(t *testing.T) {
	rec := &mtRecorder{}
	a := mtStart(t, "node-a", nil)
	a.Subscribe(rec)
	var load atomic.Uint64
	b := mtStart(t, "node-b", func(c *Config) {
		mtJoin(a)(c)
		c.LoadFunc = func() Load { return Load{EgressBPS: load.Load(), CapacityBPS: 1000, CacheFullness: 0.5} }
	})
	c := mtStart(t, "node-c", mtJoin(a))
	mtWaitMembers(t, 3, a, b, c)
	epoch := a.Epoch()
	load.Store(777)
	steps := []struct {
		name   string
		action func()
		typ    EventType
		id     string
		chk    func(Member) bool
	}{
		{"join b", nil, EventJoin, "node-b", func(m Member) bool { return m.Region == "eu" && m.QUICAddr != "" }},
		{"join c", nil, EventJoin, "node-c", nil},
		{"update b load", nil, EventUpdate, "node-b", func(m Member) bool { return m.Load.EgressBPS == 777 && m.Load.CapacityBPS == 1000 }},
		{"leave b", func() {
			if err := b.Leave(5 * time.Second); err != nil {
				t.Error(err)
			}
		}, EventLeave, "node-b", func(m Member) bool { return m.State == StateLeft }},
		{"fail c", func() { c.Close() }, EventFail, "node-c", func(m Member) bool { return m.State == StateDead }},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.action != nil {
				st.action()
			}
			mtEventually(t, 30*time.Second, st.name, func() bool { return rec.has(st.typ, st.id, st.chk) })
		})
	}
	if rec.has(EventFail, "node-b", nil) || rec.has(EventLeave, "node-c", nil) {
		t.Fatalf("graceful leave and failure confused: %+v", rec.evs)
	}
	if a.Epoch() <= epoch {
		t.Fatalf("epoch %d did not advance past %d", a.Epoch(), epoch)
	}
	if n := len(a.Members()); n != 1 {
		t.Fatalf("a sees %d live members, want 1", n)
	}
	all := a.AllMembers()
	if m, ok := mtFind(all, "node-b"); !ok || m.State != StateLeft {
		t.Fatalf("AllMembers lacks left node-b: %+v", all)
	}
	if m, ok := mtFind(all, "node-c"); !ok || m.State != StateDead {
		t.Fatalf("AllMembers lacks dead node-c: %+v", all)
	}
}

func TestClusterJoinRetry(t *testing.T) {
	port := mtFreePort(t)
	b := mtStart(t, "node-b", func(c *Config) { c.Join = []string{"127.0.0.1:" + port} })
	if n := len(b.Members()); n != 1 {
		t.Fatalf("b sees %d members before a exists", n)
	}
	a := mtStart(t, "node-a", func(c *Config) { c.GossipAddr = "127.0.0.1:" + port })
	mtWaitMembers(t, 2, a, b)
	if !strings.Contains(b.log.String(), "join failed") {
		t.Fatal("failed join attempts were not logged")
	}
}

func TestClusterWrongSecret(t *testing.T) {
	a := mtStart(t, "node-a", nil)
	x := mtStart(t, "node-x", func(c *Config) { mtJoin(a)(c); c.Secret = "some-other-secret-0123456789" })
	mtEventually(t, 10*time.Second, "decrypt warning on a", func() bool {
		return strings.Contains(a.log.String(), "could not be decrypted (wrong cluster secret?)")
	})
	// Bounded wait: within 2 s neither side may see the other.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if len(a.Members()) != 1 || len(x.Members()) != 1 {
			t.Fatalf("a node with another secret joined: %v / %v", a.Members(), x.Members())
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, err := mtRoundTrip(mtCtx(t), x.Transport(), a.Self().QUICAddr, KeysALPN, "x")
	if err == nil {
		t.Fatal("QUIC stream across secrets succeeded")
	}
	mtEventually(t, 5*time.Second, "refusal logged", func() bool {
		return strings.Contains(a.log.String(), "quic: refused")
	})
}

func TestClusterKeyRotation(t *testing.T) {
	var load atomic.Uint64
	a := mtStart(t, "node-a", nil)
	b := mtStart(t, "node-b", func(c *Config) {
		mtJoin(a)(c)
		c.LoadFunc = func() Load { return Load{EgressBPS: load.Load()} }
	})
	c := mtStart(t, "node-c", mtJoin(a))
	mtWaitMembers(t, 3, a, b, c)
	old := DeriveGossipKey(mtSecret)
	next := DeriveGossipKey("rotated-secret-0123456789")
	ctx := mtCtx(t)
	steps := []struct {
		name string
		do   func(context.Context, []byte) error
		key  []byte
		want [][]byte
	}{
		{"install", a.InstallKey, next, [][]byte{old, next}},
		{"use", b.UseKey, next, [][]byte{next, old}},
		{"remove", c.RemoveKey, old, [][]byte{next}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.do(ctx, st.key); err != nil {
				t.Fatal(err)
			}
			for _, n := range []*mtNode{a, b, c} {
				if got := n.ListKeys(); !slices.EqualFunc(got, st.want, func(x, y []byte) bool { return string(x) == string(y) }) {
					t.Fatalf("%s keys %x, want %x", n.ID(), got, st.want)
				}
			}
		})
	}
	load.Store(4242)
	mtEventually(t, 10*time.Second, "gossip with the new key", func() bool {
		m, ok := mtFind(a.Members(), "node-b")
		return ok && m.Load.EgressBPS == 4242
	})
	d := mtStart(t, "node-d", mtJoin(a)) // derives only the old key
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if len(a.Members()) != 3 || len(d.Members()) != 1 {
			t.Fatal("a node with only the removed key joined")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := a.RemoveKey(ctx, next); err == nil {
		t.Fatal("removing the primary key succeeded")
	}
}

func TestClusterKeyRotationReportsFailures(t *testing.T) {
	a := mtStart(t, "node-a", nil)
	b := mtStart(t, "node-b", mtJoin(a))
	mtWaitMembers(t, 2, a, b)
	// b refuses "use" of a key it does not have; a reports it.
	k := DeriveGossipKey("never-installed-0123456789")
	if err := a.keyring.AddKey(k); err != nil {
		t.Fatal(err)
	}
	err := a.UseKey(mtCtx(t), k)
	var ke *KeyError
	if !errorsAs(err, &ke) || ke.Failed["node-b"] == nil || len(ke.Failed) != 1 {
		t.Fatalf("want a KeyError naming node-b, got %v", err)
	}
}

func TestClusterLeaveWaitsForStreams(t *testing.T) {
	var finished atomic.Bool
	started := make(chan struct{})
	a := mtNew(t, "node-a", nil)
	a.Transport().Handle("slow/1", func(_ context.Context, _ transport.PeerInfo, s *quic.Stream) {
		close(started)
		for range 10 {
			s.Write([]byte("0123456789"))
			time.Sleep(30 * time.Millisecond)
		}
		finished.Store(true)
	})
	if err := a.Start(mtCtx(t)); err != nil {
		t.Fatal(err)
	}
	b := mtStart(t, "node-b", mtJoin(a))
	mtWaitMembers(t, 2, a, b)
	s, err := b.Transport().OpenStream(mtCtx(t), a.Self().QUICAddr, "slow/1")
	if err != nil {
		t.Fatal(err)
	}
	s.Write([]byte("go"))
	read := make(chan int, 1)
	go func() {
		b, _ := io.ReadAll(s)
		read <- len(b)
	}()
	<-started
	if err := a.Leave(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if !finished.Load() {
		t.Fatal("Leave returned before the in-flight stream finished")
	}
	if n := <-read; n != 100 {
		t.Fatalf("peer got %d bytes, want 100", n)
	}
}
