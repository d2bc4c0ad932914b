package transport

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/quic-go/quic-go"
)

// mtLogBuf is a concurrency-safe log sink for asserting on log output.
type mtLogBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *mtLogBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *mtLogBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *mtLogBuf) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// mtTransport is a started Transport with its own metrics and log.
type mtTransport struct {
	*Transport
	m   *metrics
	log *mtLogBuf
}

// mtSecret is the cluster secret of the tests' CA.
const mtSecret = "test-secret-0123456789abcdef"

// mtProbeALPN is the ALPN test probes offer (package cluster uses
// classmesh-verify/1 and classmesh-keys/1).
const mtProbeALPN = "classmesh-verify/1"

// mtNewTransport starts a Transport for id signed by ca on 127.0.0.1:port
// (port "0" = any) with the given handlers.
func mtNewTransport(t *testing.T, id string, ca *CA, port string, handlers map[string]StreamHandler) *mtTransport {
	t.Helper()
	lb := &mtLogBuf{}
	tr, err := New(Config{NodeID: id, CA: ca, Logger: lb.logger(), ProbeALPNs: []string{mtProbeALPN}})
	if err != nil {
		t.Fatal(err)
	}
	for a, h := range handlers {
		tr.Handle(a, h)
	}
	if err := tr.Listen("127.0.0.1:" + port); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return &mtTransport{Transport: tr, m: tr.metrics, log: lb}
}

// mtEcho writes back everything it reads, prefixed with prefix.
func mtEcho(prefix string) StreamHandler {
	return func(_ context.Context, _ PeerInfo, s *quic.Stream) {
		s.Write([]byte(prefix))
		io.Copy(s, s)
	}
}

// mtRoundTrip opens a stream, sends msg, closes the write side and reads
// the whole answer.
func mtRoundTrip(ctx context.Context, tr *Transport, addr, alpn, msg string) (string, error) {
	s, err := tr.OpenStream(ctx, addr, alpn)
	if err != nil {
		return "", err
	}
	defer s.CancelRead(0)
	s.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.Write([]byte(msg)); err != nil {
		return "", err
	}
	s.Close()
	b, err := io.ReadAll(s)
	return string(b), err
}

// mtEventually polls cond every 50 ms until it holds or d passes.
func mtEventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mtCA(t *testing.T, secret string) *CA {
	t.Helper()
	ca, err := DeriveCA(secret)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func mtCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// mtValue reads a gauge or counter.
func mtValue(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		return -1
	}
	if d.Gauge != nil {
		return d.Gauge.GetValue()
	}
	return d.Counter.GetValue()
}
