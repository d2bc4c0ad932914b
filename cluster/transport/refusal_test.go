package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

// Finding 7 / brief 5: refused handshakes are counted by reason and
// logged; a client without a certificate was neither.
func TestTransportRefusalReasons(t *testing.T) {
	ca := mtCA(t, mtSecret)
	srv := mtNewTransport(t, "server", ca, "0", map[string]StreamHandler{"echo/1": mtEcho("")})
	addr := srv.Addr().String()

	t.Run("no_certificate", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := quic.DialAddr(ctx, addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"echo/1"},
			MinVersion: tls.VersionTLS13}, nil)
		if err == nil {
			// TLS 1.3: the client may finish before the server's verdict.
			s, serr := conn.OpenStreamSync(ctx)
			if serr == nil {
				s.Write([]byte("x"))
				s.Close()
				_, serr = io.ReadAll(s)
			}
			conn.CloseWithError(0, "")
			if serr == nil {
				t.Fatal("a client without a certificate got a stream answered")
			}
		}
		mtEventually(t, 5*time.Second, "no_certificate counted", func() bool {
			return mtValue(srv.m.refused.WithLabelValues("no_certificate")) >= 1
		})
		if !strings.Contains(srv.log.String(), "quic: refused 127.0.0.1:") {
			t.Fatalf("refusal not logged:\n%s", srv.log.String())
		}
	})
	t.Run("unknown_authority", func(t *testing.T) {
		cli := mtNewTransport(t, "intruder", mtCA(t, "another-secret-0123456789"), "0", nil)
		if _, err := mtRoundTrip(mtCtx(t), cli.Transport, addr, "echo/1", "x"); err == nil {
			t.Fatal("foreign CA accepted")
		}
		mtEventually(t, 5*time.Second, "unknown_authority counted", func() bool {
			return mtValue(srv.m.refused.WithLabelValues("unknown_authority")) >= 1
		})
	})
	t.Run("name_mismatch", func(t *testing.T) {
		cli := mtNewTransport(t, "member", ca, "0", nil)
		srv.Handle(mtProbeALPN, func(context.Context, PeerInfo, *quic.Stream) {})
		err := cli.Probe(mtCtx(t), addr, "someone-else")
		if !errors.Is(err, ErrPeerNameMismatch) {
			t.Fatalf("Probe with the wrong name: %v, want ErrPeerNameMismatch", err)
		}
		if v := mtValue(cli.m.refused.WithLabelValues("name_mismatch")); v != 1 {
			t.Fatalf("name_mismatch = %v, want 1", v)
		}
		if err := cli.Probe(mtCtx(t), addr, "server"); err != nil {
			t.Fatalf("Probe with the right name: %v", err)
		}
	})
	t.Run("rate-limited log", func(t *testing.T) {
		before := strings.Count(srv.log.String(), "reason=unknown_authority")
		cli := mtNewTransport(t, "intruder2", mtCA(t, "another-secret-0123456789"), "0", nil)
		for range 5 {
			mtRoundTrip(mtCtx(t), cli.Transport, addr, "echo/1", "x")
		}
		mtEventually(t, 5*time.Second, "refusals counted", func() bool {
			return mtValue(srv.m.refused.WithLabelValues("unknown_authority")) >= 6
		})
		if after := strings.Count(srv.log.String(), "reason=unknown_authority"); after > before+1 {
			t.Fatalf("%d refusal lines for 5 refusals within %v", after-before, refusedLogEvery)
		}
	})
}
