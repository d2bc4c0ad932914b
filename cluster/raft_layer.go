package cluster

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/quic-go/quic-go"

	"github.com/classmesh/classmesh/cluster/transport"
	"github.com/classmesh/classmesh/internal/drain"
)

// RaftALPN is the ALPN of connections that carry hashicorp/raft RPCs.
const RaftALPN = "classmesh-raft/1"

// raftStreamClosed is the stream error code sent when a raft conn closes
// its read side or aborts a write.
const raftStreamClosed quic.StreamErrorCode = 0

// RaftLayer is a raft.StreamLayer over the cluster's QUIC transport: every
// raft connection is one bidirectional stream on a mutually authenticated
// connection negotiated with RaftALPN. Give it to
// raft.NewNetworkTransportWithConfig.
//
// Incoming raft streams count as active in Transport.Active and
// Transport.WaitIdle for as long as raft keeps them open, so shut raft down
// (which closes the layer) before a graceful Cluster.Leave.
type RaftLayer struct {
	t      *transport.Transport
	log    *slog.Logger
	addr   raftAddr
	accept chan net.Conn
	d      *drain.Group // handlers of incoming streams; its Context ends on Close

	mu    sync.Mutex
	conns map[*raftConn]struct{} // live conns, accepted and dialled
}

var _ raft.StreamLayer = (*RaftLayer)(nil)

// NewRaftLayer returns a layer serving RaftALPN on t. advertise is this
// node's QUIC address (host:port) as peers dial it; it is the layer's
// raft.ServerAddress. The layer registers its handler with t.Handle at
// once, so create it before any peer dials this node with RaftALPN
// (before or after t.Listen): the ALPN is only accepted once registered.
func NewRaftLayer(t *transport.Transport, advertise string) *RaftLayer {
	l := &RaftLayer{
		t:      t,
		log:    t.Logger(),
		addr:   raftAddr(advertise),
		accept: make(chan net.Conn),
		d:      drain.New(),
		conns:  map[*raftConn]struct{}{},
	}
	t.Handle(RaftALPN, l.handle)
	return l
}

// Accept waits for the next incoming raft connection. After Close it
// returns ErrClosed; raft's NetworkTransport closes the layer only after
// marking itself shut down, so it does not log that error.
func (l *RaftLayer) Accept() (net.Conn, error) {
	select {
	case c := <-l.accept:
		return c, nil
	case <-l.d.Context().Done():
		return nil, ErrClosed
	}
}

// Close stops Accept, closes every live raft conn (incoming and dialled)
// and waits for the stream handlers to return. It is idempotent.
func (l *RaftLayer) Close() error {
	l.d.Stop()
	l.mu.Lock()
	conns := make([]*raftConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	return l.d.Close()
}

// Addr returns the advertised address.
func (l *RaftLayer) Addr() net.Addr { return l.addr }

// Dial opens a raft stream to the node whose QUIC address is address.
// timeout bounds dialling and opening the stream; zero means no bound
// other than the transport's handshake timeout.
func (l *RaftLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	if l.d.Context().Err() != nil {
		return nil, ErrClosed
	}
	ctx := l.d.Context()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	s, err := l.t.OpenStream(ctx, string(address), RaftALPN)
	if err != nil {
		if l.d.Context().Err() != nil {
			return nil, ErrClosed
		}
		return nil, err
	}
	c := l.newConn(s, raftAddr(address))
	if !l.track(c) {
		c.Close()
		return nil, ErrClosed
	}
	return c, nil
}

// handle serves one incoming raft stream: it hands a conn to Accept and
// holds the stream open until the conn, the layer or the QUIC connection
// closes.
func (l *RaftLayer) handle(ctx context.Context, peer transport.PeerInfo, s *quic.Stream) {
	if !l.d.Enter() {
		return // the transport resets the stream
	}
	defer l.d.Leave()
	c := l.newConn(s, peer.Addr)
	if !l.track(c) {
		c.Close()
		return
	}
	defer c.Close()
	select {
	case l.accept <- c:
	case <-l.d.Context().Done():
		return
	case <-ctx.Done():
		return
	}
	select {
	case <-c.done:
	case <-l.d.Context().Done():
	case <-ctx.Done():
	}
}

// newConn wraps s; closing the conn forgets it.
func (l *RaftLayer) newConn(s *quic.Stream, remote net.Addr) *raftConn {
	c := &raftConn{s: s, local: l.addr, remote: remote, done: make(chan struct{})}
	if remote == nil {
		c.remote = raftAddr("")
	}
	c.onClose = func() { l.forget(c) }
	return c
}

// track registers a live conn; false once the layer is closed.
func (l *RaftLayer) track(c *raftConn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.d.Context().Err() != nil {
		return false
	}
	l.conns[c] = struct{}{}
	return true
}

func (l *RaftLayer) forget(c *raftConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.conns, c)
}

// raftAddr is a QUIC address (host:port) as a net.Addr.
type raftAddr string

func (a raftAddr) Network() string { return "quic" }
func (a raftAddr) String() string  { return string(a) }

// raftConn is a net.Conn over one bidirectional QUIC stream.
type raftConn struct {
	s             *quic.Stream
	local, remote net.Addr
	onClose       func()

	writeMu   sync.Mutex // quic-go forbids Close concurrent with Write
	closed    atomic.Bool
	closeOnce sync.Once
	done      chan struct{} // closed by Close
}

// Read reads from the stream; a FIN from the peer reads as io.EOF.
func (c *raftConn) Read(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	return c.s.Read(p)
}

// Write writes to the stream.
func (c *raftConn) Write(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	return c.s.Write(p)
}

// Close ends both directions: it stops reading (the peer's writes fail)
// and sends a FIN after the data already written (the peer reads io.EOF).
// A Write blocked at that moment is aborted with a stream reset instead,
// since quic-go forbids closing concurrently with a write.
func (c *raftConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.s.CancelRead(raftStreamClosed)
		if c.writeMu.TryLock() {
			err = c.s.Close()
			c.writeMu.Unlock()
		} else {
			c.s.CancelWrite(raftStreamClosed)
		}
		close(c.done)
		if c.onClose != nil {
			c.onClose()
		}
	})
	return err
}

func (c *raftConn) LocalAddr() net.Addr  { return c.local }
func (c *raftConn) RemoteAddr() net.Addr { return c.remote }

func (c *raftConn) SetDeadline(t time.Time) error      { return c.s.SetDeadline(t) }
func (c *raftConn) SetReadDeadline(t time.Time) error  { return c.s.SetReadDeadline(t) }
func (c *raftConn) SetWriteDeadline(t time.Time) error { return c.s.SetWriteDeadline(t) }
