package transport

import (
	"context"
	"fmt"

	"github.com/classmesh/classmesh/internal/ident"
)

// Probe dials addr on a fresh connection (never the pooled one) offering
// Config.ProbeALPNs, checks that the certificate there chains to
// the cluster CA and names want, and closes the connection. It is how a
// member proves its gossip name; package cluster decides what a proof
// means.
func (t *Transport) Probe(ctx context.Context, addr, want string) error {
	if !ident.ValidNode(want) {
		return fmt.Errorf("%w: bad node ID %q", ErrUntrustedPeer, want)
	}
	if len(t.cfg.ProbeALPNs) == 0 {
		return fmt.Errorf("%w: no probe ALPN", ErrInvalidConfig)
	}
	t.mu.Lock()
	closed, started := t.closed, t.tr != nil
	t.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if !started {
		return ErrNotStarted
	}
	conn, err := t.dial(ctx, addr, t.cfg.ProbeALPNs, want)
	if err != nil {
		return err
	}
	conn.CloseWithError(codeNoError, "verified")
	return nil
}
