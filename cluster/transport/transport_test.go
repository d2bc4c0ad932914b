package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

func TestTransportALPNRouting(t *testing.T) {
	ca := mtCA(t, mtSecret)
	srv := mtNewTransport(t, "server", ca, "0", map[string]StreamHandler{
		"test-a/1": mtEcho("A:"),
		"test-b/1": mtEcho("B:"),
	})
	cli := mtNewTransport(t, "client", ca, "0", nil)
	addr := srv.Addr().String()
	ctx := mtCtx(t)
	for _, tc := range []struct {
		alpn, msg, want string
	}{
		{"test-a/1", "hello", "A:hello"},
		{"test-b/1", "world", "B:world"},
		{"test-a/1", "again", "A:again"},
	} {
		t.Run(tc.alpn+"/"+tc.msg, func(t *testing.T) {
			got, err := mtRoundTrip(ctx, cli.Transport, addr, tc.alpn, tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("unknown ALPN refused", func(t *testing.T) {
		_, err := mtRoundTrip(ctx, cli.Transport, addr, "test-nope/1", "x")
		if err == nil {
			t.Fatal("stream on an unregistered ALPN succeeded")
		}
		mtEventually(t, 5*time.Second, "alpn refusal metric", func() bool {
			return mtValue(srv.m.refused.WithLabelValues("alpn")) == 1
		})
	})
}

func TestTransportPeerIdentity(t *testing.T) {
	ca := mtCA(t, mtSecret)
	got := make(chan PeerInfo, 1)
	srv := mtNewTransport(t, "server", ca, "0", map[string]StreamHandler{
		"id/1": func(_ context.Context, p PeerInfo, s *quic.Stream) { got <- p },
	})
	cli := mtNewTransport(t, "client-7", ca, "0", nil)
	if _, err := mtRoundTrip(mtCtx(t), cli.Transport, srv.Addr().String(), "id/1", "x"); err != nil {
		t.Fatal(err)
	}
	p := <-got
	if p.NodeID != "client-7" {
		t.Fatalf("peer node ID %q, want client-7", p.NodeID)
	}
	if p.Addr.String() != cli.Addr().String() {
		t.Fatalf("peer addr %v, want %v", p.Addr, cli.Addr())
	}
}

func TestTransportConnectionReuse(t *testing.T) {
	ca := mtCA(t, mtSecret)
	srv := mtNewTransport(t, "server", ca, "0", map[string]StreamHandler{"echo/1": mtEcho("")})
	cli := mtNewTransport(t, "client", ca, "0", nil)
	ctx := mtCtx(t)
	errs := make(chan error, 100)
	for i := range 100 {
		go func() {
			msg := strconv.Itoa(i)
			got, err := mtRoundTrip(ctx, cli.Transport, srv.Addr().String(), "echo/1", msg)
			if err == nil && got != msg {
				err = fmt.Errorf("got %q, want %q", got, msg)
			}
			errs <- err
		}()
	}
	for range 100 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := mtValue(cli.m.connections); n != 1 {
		t.Fatalf("client has %v connections, want 1", n)
	}
	if n := mtValue(cli.m.streams.WithLabelValues("echo/1")); n != 100 {
		t.Fatalf("client opened %v streams, want 100", n)
	}
	mtEventually(t, 5*time.Second, "server stream count", func() bool {
		return mtValue(srv.m.streams.WithLabelValues("echo/1")) == 100
	})
}

func TestTransportReconnectAfterRestart(t *testing.T) {
	ca := mtCA(t, mtSecret)
	h := map[string]StreamHandler{"echo/1": mtEcho("")}
	srv := mtNewTransport(t, "server", ca, "0", h)
	cli := mtNewTransport(t, "client", ca, "0", nil)
	addr := srv.Addr().String()
	ctx := mtCtx(t)
	if _, err := mtRoundTrip(ctx, cli.Transport, addr, "echo/1", "one"); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	_, port, _ := net.SplitHostPort(addr)
	mtNewTransport(t, "server", ca, port, h)
	// The first attempts may use the dead connection; a new one must follow.
	mtEventually(t, 15*time.Second, "echo after restart", func() bool {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		got, err := mtRoundTrip(c, cli.Transport, addr, "echo/1", "two")
		return err == nil && got == "two"
	})
}

func TestTransportWrongSecretRefused(t *testing.T) {
	srv := mtNewTransport(t, "server", mtCA(t, mtSecret), "0", map[string]StreamHandler{"echo/1": mtEcho("")})
	cli := mtNewTransport(t, "intruder", mtCA(t, "another-secret-0123456789"), "0", nil)
	_, err := mtRoundTrip(mtCtx(t), cli.Transport, srv.Addr().String(), "echo/1", "x")
	if err == nil {
		t.Fatal("stream to a node with another secret succeeded")
	}
	if !errors.Is(err, ErrUntrustedPeer) && !strings.Contains(err.Error(), "tls") {
		t.Fatalf("want a TLS or certificate error, got %v", err)
	}
	mtEventually(t, 5*time.Second, "server refusal metric", func() bool {
		return mtValue(srv.m.refused.WithLabelValues("unknown_authority")) >= 1
	})
	if log := srv.log.String(); !strings.Contains(log, "quic: refused 127.0.0.1:") || !strings.Contains(log, "wrong cluster secret?") {
		t.Fatalf("server log lacks the refusal:\n%s", log)
	}
}

func TestTransportOpenStreamErrors(t *testing.T) {
	ca := mtCA(t, mtSecret)
	tr, err := New(Config{NodeID: "n1", CA: ca})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.OpenStream(context.Background(), "127.0.0.1:1", "x/1"); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("before Listen: got %v, want ErrNotStarted", err)
	}
	tr.Close()
	if _, err := tr.OpenStream(context.Background(), "127.0.0.1:1", "x/1"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: got %v, want ErrClosed", err)
	}
	if _, err := New(Config{NodeID: "bad id", CA: ca}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("bad node ID: got %v", err)
	}
}

func TestTransportWaitIdle(t *testing.T) {
	ca := mtCA(t, mtSecret)
	release := make(chan struct{})
	var started atomic.Int32
	srv := mtNewTransport(t, "server", ca, "0", map[string]StreamHandler{
		"slow/1": func(_ context.Context, _ PeerInfo, s *quic.Stream) {
			started.Add(1)
			<-release
			s.Write([]byte("done"))
		},
	})
	cli := mtNewTransport(t, "client", ca, "0", nil)
	ctx := mtCtx(t)
	res := make(chan string, 1)
	go func() {
		got, _ := mtRoundTrip(ctx, cli.Transport, srv.Addr().String(), "slow/1", "x")
		res <- got
	}()
	mtEventually(t, 5*time.Second, "handler start", func() bool { return started.Load() == 1 })
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := srv.WaitIdle(short); err == nil {
		t.Fatal("WaitIdle returned nil with a handler running")
	}
	close(release)
	if err := srv.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if got := <-res; got != "done" {
		t.Fatalf("client got %q", got)
	}
}
