package cluster

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/classmesh/classmesh/cluster/transport"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/quic-go/quic-go"
)

// mtSecret is the cluster secret of the tests' nodes and CA.
const mtSecret = "test-secret-0123456789abcdef"

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

// mtTransport is a started Transport with its own registry and log.
type mtTransport struct {
	*transport.Transport
	reg *prometheus.Registry
	log *mtLogBuf
}

// refused reads classmesh_quic_handshakes_refused_total{reason}.
func (t *mtTransport) refused(reason string) float64 {
	return mtCounter(t.reg, "classmesh_quic_handshakes_refused_total", "reason", reason)
}

// mtNewTransport starts a Transport for id signed by ca on 127.0.0.1:port
// (port "0" = any) with the given handlers.
func mtNewTransport(t *testing.T, id string, ca *transport.CA, port string, handlers map[string]transport.StreamHandler) *mtTransport {
	t.Helper()
	reg := prometheus.NewRegistry()
	lb := &mtLogBuf{}
	tr, err := transport.New(transport.Config{NodeID: id, CA: ca, Logger: lb.logger(),
		Registerer: reg, ProbeALPNs: []string{VerifyALPN, KeysALPN}})
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
	return &mtTransport{Transport: tr, reg: reg, log: lb}
}

// mtEcho writes back everything it reads, prefixed with prefix.
func mtEcho(prefix string) transport.StreamHandler {
	return func(_ context.Context, _ transport.PeerInfo, s *quic.Stream) {
		s.Write([]byte(prefix))
		io.Copy(s, s)
	}
}

// mtRoundTrip opens a stream, sends msg, closes the write side and reads
// the whole answer.
func mtRoundTrip(ctx context.Context, tr *transport.Transport, addr, alpn, msg string) (string, error) {
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

func mtCA(t *testing.T, secret string) *transport.CA {
	t.Helper()
	ca, err := transport.DeriveCA(secret)
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

// mtCounter reads the counter or gauge name{label=value} from g; 0 when
// it has not been recorded.
func mtCounter(g prometheus.Gatherer, name, label, value string) float64 {
	fams, err := g.Gather()
	if err != nil {
		return -1
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					if m.Gauge != nil {
						return m.Gauge.GetValue()
					}
					return m.Counter.GetValue()
				}
			}
		}
	}
	return 0
}
