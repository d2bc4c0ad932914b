package control

import (
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// testNode is a Store on a real TCP raft transport on loopback.
type testNode struct {
	t     *testing.T
	id    string
	dir   string
	addr  string
	boot  bool
	tune  func(*Config)
	store *Store
	trans *raft.NetworkTransport
}

func newTestNode(t *testing.T, id string, boot bool, tune func(*Config)) *testNode {
	t.Helper()
	n := &testNode{t: t, id: id, dir: filepath.Join(t.TempDir(), id), addr: "127.0.0.1:0", boot: boot, tune: tune}
	n.start()
	t.Cleanup(n.stop)
	return n
}

func testConfig(id, dir string, trans raft.Transport) Config {
	cfg := DefaultConfig()
	cfg.NodeID = id
	cfg.DataDir = dir
	cfg.Transport = trans
	// Short enough for quick elections, long enough that a loaded 2-core
	// machine does not lose its leader between two steps of a test.
	cfg.HeartbeatTimeout = 400 * time.Millisecond
	cfg.ElectionTimeout = 400 * time.Millisecond
	cfg.LeaderLeaseTimeout = 200 * time.Millisecond
	cfg.CommitTimeout = 5 * time.Millisecond
	cfg.SnapshotThreshold = 1 << 20
	cfg.SnapshotInterval = time.Hour
	cfg.RaftLogLevel = 100 // silence raft in tests
	return cfg
}

func (n *testNode) start() {
	n.t.Helper()
	trans, err := raft.NewTCPTransport(n.addr, nil, 3, 2*time.Second, io.Discard)
	if err != nil {
		n.t.Fatalf("transport %s: %v", n.id, err)
	}
	n.trans = trans
	n.addr = string(trans.LocalAddr())
	cfg := testConfig(n.id, n.dir, trans)
	cfg.Bootstrap = n.boot
	if n.tune != nil {
		n.tune(&cfg)
	}
	s, err := Open(cfg)
	if err != nil {
		_ = trans.Close()
		n.t.Fatalf("open %s: %v", n.id, err)
	}
	n.store = s
}

// stop closes the store gracefully (leadership transfer) and the transport.
func (n *testNode) stop() {
	if n.store == nil {
		return
	}
	if err := n.store.Close(); err != nil {
		n.t.Errorf("close %s: %v", n.id, err)
	}
	_ = n.trans.Close()
	n.store = nil
}

// kill stops the node abruptly: the transport goes first, no transfer.
func (n *testNode) kill() {
	_ = n.trans.Close()
	n.store.closeOnce.Do(func() { n.store.closeErr = n.store.closeParts() })
	n.store = nil
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// leaderOf waits for one of nodes to be leader and returns it.
func leaderOf(t *testing.T, nodes ...*testNode) *testNode {
	t.Helper()
	var found *testNode
	err := poll(ctxT(t, 10*time.Second), func() bool {
		for _, n := range nodes {
			if n.store != nil && n.store.IsLeader() {
				found = n
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("no leader: %v", err)
	}
	return found
}

// cluster3 starts n1 (bootstrap) and adds n2, n3 as voters.
func cluster3(t *testing.T, tune func(*Config)) []*testNode {
	t.Helper()
	n1 := newTestNode(t, "n1", true, tune)
	leaderOf(t, n1)
	nodes := []*testNode{n1}
	stores := []*Store{n1.store}
	for _, id := range []string{"n2", "n3"} {
		n := newTestNode(t, id, false, tune)
		addVoter(t, stores, id, n.addr)
		nodes, stores = append(nodes, n), append(stores, n.store)
	}
	return nodes
}

// addVoter adds a voter through whichever store leads, retrying while a
// loaded machine moves leadership around (bounded).
func addVoter(t *testing.T, stores []*Store, id, addr string) {
	t.Helper()
	var err error
	for range 50 {
		for _, s := range stores {
			if !s.IsLeader() {
				continue
			}
			if err = s.AddVoter(id, addr); err == nil {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("add voter %s: %v", id, err)
}

func mustCreate(t *testing.T, s *Store, k Kind, id string, v any) *Result {
	t.Helper()
	res, err := s.Create(ctxT(t, 10*time.Second), k, id, v)
	if err != nil {
		t.Fatalf("create %s %s: %v", k, id, err)
	}
	return res
}

func testAsset(id string) *Asset {
	return &Asset{Title: "Asset " + id, Source: "videos/" + id + ".mp4", Duration: 60, Status: AssetReady}
}

// dump returns every record and history entry of a replica, for comparing.
func dump(t *testing.T, s *Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range Kinds() {
		recs, err := s.List(k, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			var m struct {
				ID, Name, KID string
			}
			_ = json.Unmarshal(r, &m)
			id := m.ID + m.Name + m.KID
			out[string(k)+"/"+id] = string(r)
			h, err := s.History(k, id)
			if err != nil {
				t.Fatal(err)
			}
			out[string(k)+"/"+id+"#history"] = string(mustJSON(t, h))
		}
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
