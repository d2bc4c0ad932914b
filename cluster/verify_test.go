package cluster

import (
	"errors"
	"io"
	"log"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/classmesh/classmesh/cluster/transport"
	"github.com/hashicorp/memberlist"
)

// rogueDelegate gossips forged metadata.
type rogueDelegate struct{ meta []byte }

func (d rogueDelegate) NodeMeta(int) []byte                 { return d.meta }
func (d rogueDelegate) NotifyMsg([]byte)                    {}
func (d rogueDelegate) GetBroadcasts(int, int) [][]byte     { return nil }
func (d rogueDelegate) LocalState(bool) []byte              { return nil }
func (d rogueDelegate) MergeRemoteState(buf []byte, _ bool) {}

// startRogue joins seed's gossip with the cluster's gossip key (and
// nothing else) as name, advertising every role and quicAddr.
func startRogue(t *testing.T, seed *mtNode, name, quicAddr string) *memberlist.Memberlist {
	t.Helper()
	kr, err := memberlist.NewKeyring(nil, DeriveGossipKey(mtSecret))
	if err != nil {
		t.Fatal(err)
	}
	mlc := memberlist.DefaultLocalConfig()
	mlc.Name, mlc.BindAddr, mlc.BindPort, mlc.AdvertisePort = name, "127.0.0.1", 0, 0
	mlc.Keyring = kr
	mlc.Logger = log.New(io.Discard, "", 0)
	mlc.Delegate = rogueDelegate{meta: encodeMeta(nodeMeta{ID: name, Region: "eu", QUICAddr: quicAddr,
		HTTPAddr: "http://" + name + ".test", Roles: []Role{RoleEdge, RoleOrigin, RoleControl}})}
	ml, err := memberlist.Create(mlc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ml.Shutdown() })
	if _, err := ml.Join([]string{seed.Self().GossipAddr}); err != nil {
		t.Fatal(err)
	}
	return ml
}

// Finding 1: a process holding only the gossip key joined memberlist and
// was handed work. It must stay "unverified": visible, but never in
// Members (ring, origins, relay parents, raft reconciler).
func TestClusterRogueMemberUnverified(t *testing.T) {
	a := mtStart(t, "node-a", nil)
	rec := &mtRecorder{}
	defer a.Subscribe(rec)()
	b := mtStart(t, "node-b", mtJoin(a))
	mtWaitMembers(t, 2, a, b)
	// Events are delivered asynchronously, after Members changed.
	mtEventually(t, 5*time.Second, "a join event for the verified node-b", func() bool {
		return rec.has(EventJoin, "node-b", func(m Member) bool { return m.State == StateAlive })
	})
	// What the owner ring (cluster/ring.RingKeeper) does: rebuild its
	// view from Members on every event.
	views := &mtViews{src: a}
	defer a.Subscribe(views)()

	// A QUIC address where no one answers.
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.LocalAddr().String()
	dead.Close()
	// Another cluster's node: a certificate from a foreign CA.
	foreign := mtNewTransport(t, "rogue-ca", mtCA(t, "another-secret-0123456789"), "0",
		map[string]transport.StreamHandler{VerifyALPN: serveVerify})

	tests := []struct {
		name, quic, reason string
	}{
		{"rogue-steals-address", b.Self().QUICAddr, "name_mismatch"},
		{"rogue-ca", foreign.Addr().String(), "unknown_authority"},
		{"rogue-silent", deadAddr, ""},
		{"rogue-no-quic", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			startRogue(t, a, tc.name, tc.quic)
			mtEventually(t, 10*time.Second, tc.name+" listed as unverified", func() bool {
				m, ok := mtFind(a.AllMembers(), tc.name)
				return ok && m.State == StateUnverified
			})
			if tc.reason != "" {
				mtEventually(t, 10*time.Second, "refusal "+tc.reason+" counted", func() bool {
					return a.refused(tc.reason) >= 1
				})
			}
			// Bounded: for 1.5 s the rogue must get no work.
			for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); {
				if _, ok := mtFind(a.Members(), tc.name); ok {
					t.Fatalf("%s is in Members: %+v", tc.name, a.Members())
				}
				if views.has(tc.name) {
					t.Fatalf("%s is in the view rebuilt on the last event (the ring's)", tc.name)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if rec.has(EventJoin, tc.name, nil) {
				t.Fatalf("subscribers saw a join of %s", tc.name)
			}
			// A rogue advertising node-b's address must not break dials to
			// node-b: the expected name comes from verified members only.
			if got := a.expectID(b.Self().QUICAddr); got != "node-b" {
				t.Fatalf("expectID(node-b's address) = %q", got)
			}
			if _, err := mtRoundTrip(mtCtx(t), a.Transport(), b.Self().QUICAddr, VerifyALPN, ""); err != nil &&
				errors.Is(err, transport.ErrUntrustedPeer) {
				t.Fatalf("dial to node-b refused: %v", err)
			}
		})
	}
	if v := mtValue(a.metrics.verify.WithLabelValues("failed")); v < 3 {
		t.Fatalf("verifications{failed} = %v, want >= 3", v)
	}
	if !strings.Contains(a.log.String(), "has not proved its name") {
		t.Fatal("failed verification not logged")
	}
}

// A verified member that moves to another QUIC address is unverified
// until it proves the new one.
func TestClusterReverifyOnAddressChange(t *testing.T) {
	a := mtStart(t, "node-a", nil)
	b := mtStart(t, "node-b", mtJoin(a))
	mtWaitMembers(t, 2, a, b)
	host, port, _ := net.SplitHostPort(b.Self().GossipAddr)
	p, _ := strconv.Atoi(port)
	node := func(quic string) *memberlist.Node {
		meta := encodeMeta(nodeMeta{ID: "node-b", Region: "eu", QUICAddr: quic, Roles: []Role{RoleEdge}})
		return &memberlist.Node{Name: "node-b", Addr: net.ParseIP(host), Port: uint16(p), Meta: meta}
	}
	a.record(EventUpdate, node("127.0.0.1:1")) // nobody there
	if _, ok := mtFind(a.Members(), "node-b"); ok {
		t.Fatal("node-b still verified after its address changed")
	}
	a.record(EventUpdate, node(b.Self().QUICAddr))
	mtEventually(t, 10*time.Second, "node-b verified again", func() bool {
		_, ok := mtFind(a.Members(), "node-b")
		return ok
	})
}

// mtViews rebuilds a member view from src on every event, as the owner
// ring's keeper does; has reports whether the latest view holds an ID.
type mtViews struct {
	src  interface{ Members() []Member }
	mu   sync.Mutex
	last []Member
}

func (v *mtViews) HandleClusterEvent(Event) {
	ms := v.src.Members()
	v.mu.Lock()
	defer v.mu.Unlock()
	v.last = ms
}

func (v *mtViews) has(id string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	_, ok := mtFind(v.last, id)
	return ok
}
