package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"

	"github.com/quic-go/quic-go"
)

// OpenStream opens a bidirectional stream to the node whose QUIC address is
// quicAddr, on a connection negotiated with alpn. Connections are reused
// per (address, ALPN), kept alive, and re-dialled when dead. The first
// stream after a peer restarted may still fail; callers retry once.
func (t *Transport) OpenStream(ctx context.Context, quicAddr, alpn string) (*quic.Stream, error) {
	for attempt := 0; ; attempt++ {
		conn, err := t.conn(ctx, quicAddr, alpn)
		if err != nil {
			return nil, err
		}
		s, err := conn.OpenStreamSync(ctx)
		if err == nil {
			t.metrics.stream(alpn)
			return s, nil
		}
		if ctx.Err() != nil || conn.Context().Err() == nil || attempt > 0 {
			return nil, fmt.Errorf("cluster: open stream to %s: %w", quicAddr, err)
		}
		// The cached connection died under us: dial once more.
	}
}

// conn returns a live connection for (addr, alpn), dialling when needed.
func (t *Transport) conn(ctx context.Context, addr, alpn string) (*quic.Conn, error) {
	k := connKey{addr: addr, alpn: alpn}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, ErrClosed
	}
	if t.tr == nil {
		t.mu.Unlock()
		return nil, ErrNotStarted
	}
	pc := t.conns[k]
	if pc == nil {
		pc = &peerConn{}
		t.conns[k] = pc
	}
	t.mu.Unlock()

	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.conn != nil && pc.conn.Context().Err() == nil {
		return pc.conn, nil
	}
	want := ""
	if t.cfg.ExpectID != nil {
		want = t.cfg.ExpectID(addr)
	}
	c, err := t.dial(ctx, addr, []string{alpn}, want)
	if err != nil {
		return nil, err
	}
	pc.conn = c
	return c, nil
}

// dial connects to addr offering alpns and verifies the server's
// certificate against the cluster CA and, when want is not "", that it
// names want. Verification happens after the handshake so that the server
// sees this node's certificate and can log a refusal too; no stream is
// opened before it passes. A refusal is counted like an incoming one.
func (t *Transport) dial(ctx context.Context, addr string, alpns []string, want string) (*quic.Conn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("cluster: quic addr %q: %w", addr, err)
	}
	t.mu.Lock()
	tr := t.tr
	t.mu.Unlock()
	tlsConf := &tls.Config{
		MinVersion:         tls.VersionTLS13,
		NextProtos:         alpns,
		InsecureSkipVerify: true, // verified below against the cluster CA, not hostnames
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return t.leaf.get()
		},
	}
	conn, err := tr.Dial(ctx, ua, tlsConf, t.qcfg)
	if err != nil {
		return nil, fmt.Errorf("cluster: dial %s (%s): %w", addr, alpns[0], err)
	}
	if err := t.verifyServer(conn, want); err != nil {
		conn.CloseWithError(codeUntrusted, "untrusted certificate")
		t.refused(addr, refusalReason(err), err)
		return nil, fmt.Errorf("cluster: dial %s: %w", addr, err)
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		conn.CloseWithError(codeNoError, "closing")
		return nil, ErrClosed
	}
	t.wg.Add(1)
	t.mu.Unlock()
	t.metrics.connOpened()
	go func() {
		defer t.wg.Done()
		defer t.metrics.connClosed()
		select {
		case <-conn.Context().Done():
		case <-t.ctx.Done():
			conn.CloseWithError(codeNoError, "closing")
		}
	}()
	return conn, nil
}

// verifyServer checks the server's certificate chain of a fresh connection.
func (t *Transport) verifyServer(conn *quic.Conn, want string) error {
	st := conn.ConnectionState().TLS
	raw := make([][]byte, 0, len(st.PeerCertificates))
	for _, c := range st.PeerCertificates {
		raw = append(raw, c.Raw)
	}
	_, err := t.cfg.CA.VerifyPeer(raw, x509.ExtKeyUsageServerAuth, want)
	return err
}
