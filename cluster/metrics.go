package cluster

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics holds the package's collectors. A nil *metrics is valid and
// records nothing, so callers never check.
type metrics struct {
	members     *prometheus.GaugeVec
	connections prometheus.Gauge
	streams     *prometheus.CounterVec
	refused     *prometheus.CounterVec
	verify      *prometheus.CounterVec
}

// newMetrics registers the collectors with reg; nil means a private
// registry, so the metrics always exist.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry() // nil means a private registry
	}
	m := &metrics{
		members: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "classmesh_cluster_members",
			Help: "Cluster members known to this node, by state.",
		}, []string{"state"}),
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
		verify: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_cluster_verifications_total",
			Help: "Probes of members' cluster certificates, by result (ok, failed).",
		}, []string{"result"}),
	}
	for _, c := range []prometheus.Collector{m.members, m.connections, m.streams, m.refused, m.verify} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) setMembers(counts map[string]int) {
	for _, s := range []string{StateAlive, StateSuspect, StateDead, StateLeft} {
		m.members.WithLabelValues(s).Set(float64(counts[s]))
	}
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

func (m *metrics) verified(result string) {
	m.verify.WithLabelValues(result).Inc()
}
