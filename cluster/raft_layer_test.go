package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/classmesh/classmesh/cluster/transport"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// rlNode is a started Transport with a RaftLayer advertising its address.
type rlNode struct {
	tr    *mtTransport
	layer *RaftLayer
	addr  string
}

func rlNewNode(t *testing.T, id string, ca *transport.CA) *rlNode {
	t.Helper()
	tr := mtNewTransport(t, id, ca, "0", nil)
	addr := tr.Addr().String()
	l := NewRaftLayer(tr.Transport, addr)
	t.Cleanup(func() { l.Close() }) // before the transport's cleanup (LIFO)
	return &rlNode{tr: tr, layer: l, addr: addr}
}

// rlAccept runs Accept in the background; the result arrives on the channel.
func rlAccept(l *RaftLayer) <-chan net.Conn {
	ch := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(ch)
			return
		}
		ch <- c
	}()
	return ch
}

// rlRecv waits for an accepted conn, failing after 10 s.
func rlRecv(t *testing.T, ch <-chan net.Conn) net.Conn {
	t.Helper()
	select {
	case c, ok := <-ch:
		if !ok {
			t.Fatal("accept failed")
		}
		t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no connection accepted")
	}
	return nil
}

// rlDialPair dials b from a and returns both ends. The dialler writes one
// byte first, since a QUIC stream reaches the peer only with its first data.
func rlDialPair(t *testing.T, a, b *rlNode) (dialled, accepted net.Conn) {
	t.Helper()
	ch := rlAccept(b.layer)
	d, err := a.layer.Dial(raft.ServerAddress(b.addr), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Write([]byte{'!'}); err != nil {
		t.Fatal(err)
	}
	acc := rlRecv(t, ch)
	acc.SetDeadline(time.Now().Add(10 * time.Second))
	one := make([]byte, 1)
	if _, err := io.ReadFull(acc, one); err != nil || one[0] != '!' {
		t.Fatalf("first byte: %q, %v", one, err)
	}
	acc.SetDeadline(time.Time{})
	return d, acc
}

func TestRaftLayerEcho(t *testing.T) {
	ca := mtCA(t, "raft-secret")
	a, b := rlNewNode(t, "a", ca), rlNewNode(t, "b", ca)
	if got := b.layer.Addr().String(); got != b.addr {
		t.Fatalf("Addr() = %q, want %q", got, b.addr)
	}
	d, acc := rlDialPair(t, a, b)
	if got := d.RemoteAddr().String(); got != b.addr {
		t.Errorf("dialled RemoteAddr = %q, want %q", got, b.addr)
	}
	if got := d.LocalAddr().String(); got != a.addr {
		t.Errorf("dialled LocalAddr = %q, want %q", got, a.addr)
	}
	if got := acc.RemoteAddr().String(); got != a.addr {
		t.Errorf("accepted RemoteAddr = %q, want %q (shared UDP socket)", got, a.addr)
	}
	if got := acc.LocalAddr().String(); got != b.addr {
		t.Errorf("accepted LocalAddr = %q, want %q", got, b.addr)
	}
	go io.Copy(acc, acc) // echo until the conn closes

	d.SetDeadline(time.Now().Add(10 * time.Second))
	for _, tc := range []struct {
		name string
		size int
	}{
		{"byte", 1},
		{"small", 100},
		{"large", 3 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := bytes.Repeat([]byte{byte(tc.size)}, tc.size)
			errc := make(chan error, 1)
			go func() { _, err := d.Write(msg); errc <- err }()
			got := make([]byte, tc.size)
			if _, err := io.ReadFull(d, got); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatal("echo differs")
			}
		})
	}
}

func TestRaftLayerDeadlines(t *testing.T) {
	ca := mtCA(t, "raft-secret")
	a, b := rlNewNode(t, "a", ca), rlNewNode(t, "b", ca)
	d, acc := rlDialPair(t, a, b)

	tests := []struct {
		name string
		set  func(net.Conn, time.Time) error
		op   func(net.Conn) error
	}{
		{"read", net.Conn.SetReadDeadline, func(c net.Conn) error { _, err := c.Read(make([]byte, 1)); return err }},
		{"read via SetDeadline", net.Conn.SetDeadline, func(c net.Conn) error { _, err := c.Read(make([]byte, 1)); return err }},
		{"write", net.Conn.SetWriteDeadline, func(c net.Conn) error { _, err := c.Write([]byte("x")); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.set(d, time.Now().Add(-time.Second)); err != nil {
				t.Fatal(err)
			}
			err := tc.op(d)
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("err = %v, want a timeout", err)
			}
			if err := d.SetDeadline(time.Time{}); err != nil {
				t.Fatal(err)
			}
		})
	}

	// A read deadline in the future expires while blocked.
	d.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := d.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("blocked read: %v, want deadline exceeded", err)
	}
	// After clearing it the conn still works both ways.
	d.SetDeadline(time.Time{})
	if _, err := acc.Write([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := io.ReadFull(d, buf); err != nil || string(buf) != "ok" {
		t.Fatalf("read after deadline: %q, %v", buf, err)
	}
}

func TestRaftLayerCloseConn(t *testing.T) {
	ca := mtCA(t, "raft-secret")
	a, b := rlNewNode(t, "a", ca), rlNewNode(t, "b", ca)
	d, acc := rlDialPair(t, a, b)
	if _, err := d.Write([]byte("tail")); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	// Data written before Close still arrives, then EOF.
	acc.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(acc)
	if err != nil || string(got) != "tail" {
		t.Fatalf("peer read %q, %v; want \"tail\", EOF", got, err)
	}
	if _, err := d.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v, want net.ErrClosed", err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	// The incoming side's handler ends once raft closes its conn.
	acc.Close()
	mtEventually(t, 10*time.Second, "handler to return", func() bool { return b.tr.Active() == 0 })
}

func TestRaftLayerClose(t *testing.T) {
	ca := mtCA(t, "raft-secret")
	a, b := rlNewNode(t, "a", ca), rlNewNode(t, "b", ca)
	d, acc := rlDialPair(t, a, b)
	out, _ := rlDialPair(t, b, a) // a conn b dialled: closed by b's Close too
	if n := b.tr.Active(); n != 1 {
		t.Fatalf("b active streams = %d, want 1", n)
	}

	blocked := make(chan error, 1)
	go func() { _, err := b.layer.Accept(); blocked <- err }()
	if err := b.layer.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-blocked:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Accept after Close: %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not unblock Accept")
	}
	if n := b.tr.Active(); n != 0 {
		t.Fatalf("b active streams after Close = %d, want 0", n)
	}
	d.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := d.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("peer of an accepted conn read %v, want EOF", err)
	}
	if _, err := acc.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("closed accepted conn read %v, want net.ErrClosed", err)
	}
	if _, err := out.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("closed dialled conn write %v, want net.ErrClosed", err)
	}
	if _, err := b.layer.Dial(raft.ServerAddress(a.addr), time.Second); !errors.Is(err, ErrClosed) {
		t.Fatalf("Dial after Close: %v, want ErrClosed", err)
	}
	if _, err := b.layer.Accept(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Accept after Close: %v", err)
	}
	if err := b.layer.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestRaftLayerWrongSecret(t *testing.T) {
	a := rlNewNode(t, "a", mtCA(t, "raft-secret"))
	evil := rlNewNode(t, "evil", mtCA(t, "another-secret"))
	accepted := rlAccept(a.layer)
	tests := []struct {
		name     string
		from, to *rlNode
	}{
		{"foreign dials member", evil, a},
		{"member dials foreign", a, evil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.from.layer.Dial(raft.ServerAddress(tc.to.addr), 5*time.Second)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded across cluster secrets")
			}
		})
	}
	select {
	case c := <-accepted:
		t.Fatalf("member accepted a conn from %v", c.RemoteAddr())
	default:
	}
	if n := a.tr.Active(); n != 0 {
		t.Fatalf("member serves %d streams", n)
	}
	if v := a.tr.refused("unknown_authority"); v < 1 {
		t.Fatalf("refused{unknown_authority} = %v, want >= 1", v)
	}
}

// rlFSM is a trivial raft FSM that records applied entries.
type rlFSM struct {
	mu      sync.Mutex
	entries []string
}

func (f *rlFSM) Apply(l *raft.Log) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = append(f.entries, string(l.Data))
	return len(f.entries)
}

func (f *rlFSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return rlSnapshot(append([]string(nil), f.entries...)), nil
}

func (f *rlFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var e []string
	if err := json.NewDecoder(rc).Decode(&e); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = e
	return nil
}

func (f *rlFSM) get() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.entries...)
}

type rlSnapshot []string

func (s rlSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := json.NewEncoder(sink).Encode([]string(s)); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (rlSnapshot) Release() {}

// rlRaft is one raft server over a RaftLayer.
type rlRaft struct {
	id  raft.ServerID
	n   *rlNode
	fsm *rlFSM
	r   *raft.Raft
}

func rlNewRaft(t *testing.T, id string, ca *transport.CA) *rlRaft {
	t.Helper()
	n := rlNewNode(t, id, ca)
	cfg := raft.DefaultConfig()
	cfg.LocalID = raft.ServerID(id)
	cfg.HeartbeatTimeout = 500 * time.Millisecond
	cfg.ElectionTimeout = 500 * time.Millisecond
	cfg.LeaderLeaseTimeout = 250 * time.Millisecond
	cfg.CommitTimeout = 10 * time.Millisecond
	cfg.Logger = hclog.NewNullLogger()
	trans := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  n.layer,
		MaxPool: 3,
		Timeout: 2 * time.Second,
		Logger:  hclog.NewNullLogger(),
	})
	store := raft.NewInmemStore()
	fsm := &rlFSM{}
	r, err := raft.NewRaft(cfg, fsm, store, store, raft.NewInmemSnapshotStore(), trans)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Shutdown().Error() }) // runs before the layer's cleanup
	return &rlRaft{id: cfg.LocalID, n: n, fsm: fsm, r: r}
}

// rlLeader waits until one of nodes is leader and every other node of
// nodes agrees on it.
func rlLeader(t *testing.T, nodes []*rlRaft) *rlRaft {
	t.Helper()
	var leader *rlRaft
	mtEventually(t, 15*time.Second, "a leader", func() bool {
		leader = nil
		for _, n := range nodes {
			if n.r.State() == raft.Leader {
				leader = n
			}
		}
		if leader == nil {
			return false
		}
		for _, n := range nodes {
			if _, id := n.r.LeaderWithID(); id != leader.id {
				return false
			}
		}
		return true
	})
	return leader
}

// rlConverge waits until every node's FSM holds exactly want.
func rlConverge(t *testing.T, nodes []*rlRaft, want []string) {
	t.Helper()
	for _, n := range nodes {
		mtEventually(t, 15*time.Second, fmt.Sprintf("%s to apply %d entries", n.id, len(want)), func() bool {
			return len(n.fsm.get()) >= len(want)
		})
		got := n.fsm.get()
		if len(got) != len(want) {
			t.Fatalf("%s applied %d entries, want %d", n.id, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s entry %d = %q, want %q", n.id, i, got[i], want[i])
			}
		}
	}
}

func TestRaftLayerCluster(t *testing.T) {
	ca := mtCA(t, "raft-secret")
	nodes := []*rlRaft{rlNewRaft(t, "n1", ca), rlNewRaft(t, "n2", ca), rlNewRaft(t, "n3", ca)}
	var servers []raft.Server
	for _, n := range nodes {
		servers = append(servers, raft.Server{ID: n.id, Address: raft.ServerAddress(n.n.addr)})
	}
	if err := nodes[0].r.BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil {
		t.Fatal(err)
	}
	leader := rlLeader(t, nodes)

	var want []string
	for i := range 100 {
		e := fmt.Sprintf("entry-%03d", i)
		if err := leader.r.Apply([]byte(e), 5*time.Second).Error(); err != nil {
			t.Fatalf("apply %d: %v", i, err)
		}
		want = append(want, e)
	}
	rlConverge(t, nodes, want)

	// Leader failover: the two survivors elect one of themselves.
	if err := leader.r.Shutdown().Error(); err != nil {
		t.Fatal(err)
	}
	var rest []*rlRaft
	for _, n := range nodes {
		if n != leader {
			rest = append(rest, n)
		}
	}
	next := rlLeader(t, rest)
	if next == leader {
		t.Fatal("old leader still leads")
	}
	if err := next.r.Apply([]byte("after-failover"), 5*time.Second).Error(); err != nil {
		t.Fatalf("apply after failover: %v", err)
	}
	rlConverge(t, rest, append(want, "after-failover"))
	if got := len(leader.fsm.get()); got != 100 {
		t.Fatalf("shut down leader applied %d entries, want 100", got)
	}
}
