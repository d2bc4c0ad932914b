package fill

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/cluster/internal/clustertest"
	"github.com/classmesh/classmesh/cluster/transport"
)

// ftPair is two started transports of one cluster: owner serves, requester
// dials.
type ftPair struct {
	owner, requester *transport.Transport
	ownerMember      cluster.Member
}

func ftNewPair(t testing.TB) *ftPair {
	t.Helper()
	p := &ftPair{owner: clustertest.Transport(t, "owner"), requester: clustertest.Transport(t, "requester")}
	p.ownerMember = cluster.Member{ID: "owner", Roles: []cluster.Role{cluster.RoleEdge, cluster.RoleOrigin}, State: cluster.StateAlive,
		QUICAddr: p.owner.Addr().String()}
	return p
}

// signalWriter is an io.Writer collecting bytes that closes first once
// at least n bytes arrived.
type signalWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	n     int
	first chan struct{}
	once  sync.Once
}

func newSignalWriter(n int) *signalWriter {
	return &signalWriter{n: n, first: make(chan struct{})}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.buf.Len() >= w.n {
		w.once.Do(func() { close(w.first) })
	}
	return len(p), nil
}

func (w *signalWriter) Bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.buf.Bytes())
}

// waitOrCtx waits for ch, giving up when ctx ends.
func waitOrCtx(ctx context.Context, ch <-chan struct{}) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// testCtx returns a context bounded well above any expected duration, so
// a hang fails the test instead of the whole binary.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
