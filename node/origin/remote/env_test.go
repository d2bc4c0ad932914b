package remote

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/quic-go/quic-go"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/cluster/transport"
	"github.com/classmesh/classmesh/node/origin"
)

// The tests run the protocol over the cluster's real QUIC transport with
// mutual TLS on 127.0.0.1:0. Only the tests import cluster; the package
// itself takes the Cluster interface.

var (
	testCAOnce sync.Once
	testCA     *transport.CA
	testCAErr  error
)

func rtTransport(t testing.TB, id string) *transport.Transport {
	t.Helper()
	testCAOnce.Do(func() { testCA, testCAErr = transport.DeriveCA("remote-test-secret-0123456789") })
	if testCAErr != nil {
		t.Fatal(testCAErr)
	}
	tr, err := transport.New(transport.Config{NodeID: id, CA: testCA})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// register routes ALPN streams on tr to s, as node does.
func register(tr *transport.Transport, s *Server) {
	tr.Handle(ALPN, func(ctx context.Context, p transport.PeerInfo, st *quic.Stream) {
		s.HandleStream(ctx, p.NodeID, st)
	})
}

// testCluster implements Cluster over a transport and a fixed peer list.
type testCluster struct {
	tr    *transport.Transport
	peers []Peer
}

func (c *testCluster) Origins() []Peer { return c.peers }

func (c *testCluster) OpenStream(ctx context.Context, addr, alpn string) (Stream, error) {
	if c.tr == nil {
		return nil, cluster.ErrNotStarted
	}
	st, err := c.tr.OpenStream(ctx, addr, alpn)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// rtEnv is two origin members serving local directories and an Origin on
// a third node.
type rtEnv struct {
	dirs   [2]string
	locals [2]*origin.Dir
	trs    [2]*transport.Transport
	regs   [2]*prometheus.Registry
	c      *testCluster
	ro     *Origin
}

func rtNewEnv(t *testing.T, cfg Config) *rtEnv {
	t.Helper()
	e := &rtEnv{c: &testCluster{tr: rtTransport(t, "edge-1")}}
	for i, id := range []string{"origin-a", "origin-b"} {
		e.dirs[i] = t.TempDir()
		d, err := origin.NewDir(e.dirs[i], nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		e.locals[i] = d
		e.trs[i] = rtTransport(t, id)
		e.regs[i] = prometheus.NewRegistry()
		s, err := NewServer(Config{Registerer: e.regs[i]}, d)
		if err != nil {
			t.Fatal(err)
		}
		register(e.trs[i], s)
		t.Cleanup(func() { s.Close() })
		e.c.peers = append(e.c.peers, Peer{ID: id, Addr: e.trs[i].Addr().String()})
	}
	ro, err := New(e.c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.ro = ro
	return e
}

func rtWrite(t *testing.T, root, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func randomBody(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func mustMarshal(t testing.TB, m interface{ MarshalBinary() ([]byte, error) }) []byte {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
