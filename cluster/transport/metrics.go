package transport

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics holds the transport's collectors: open connections, streams by
// ALPN and refused handshakes by reason. Names are those the cluster
// package always exported.
type metrics struct {
	connections prometheus.Gauge
	streams     *prometheus.CounterVec
	refused     *prometheus.CounterVec
}

// newMetrics registers the collectors with reg; nil means a private
// registry, so the metrics always exist.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry() // nil means a private registry
	}
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "classmesh_quic_connections",
			Help: "Open node-to-node QUIC connections (dialled and accepted).",
		}),
		streams: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_quic_streams_total",
			Help: "Node-to-node QUIC streams opened or accepted, by ALPN.",
		}, []string{"alpn"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_quic_handshakes_refused_total",
			Help: "QUIC handshakes this node refused, by reason: no_certificate, unknown_authority, bad_certificate, name_mismatch, alpn.",
		}, []string{"reason"}),
	}
	for _, c := range []prometheus.Collector{m.connections, m.streams, m.refused} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) connOpened() {
	m.connections.Inc()
}

func (m *metrics) connClosed() {
	m.connections.Dec()
}

func (m *metrics) stream(alpn string) {
	m.streams.WithLabelValues(alpn).Inc()
}

func (m *metrics) refuse(reason string) {
	m.refused.WithLabelValues(reason).Inc()
}
