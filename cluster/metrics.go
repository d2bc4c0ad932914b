package cluster

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics holds the membership collectors; the transport registers its
// own (connections, streams, refused handshakes) with the same
// Registerer. A nil *metrics is valid and
// records nothing, so callers never check.
type metrics struct {
	members *prometheus.GaugeVec
	verify  *prometheus.CounterVec
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
		verify: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_cluster_verifications_total",
			Help: "Probes of members' cluster certificates, by result (ok, failed).",
		}, []string{"result"}),
	}
	for _, c := range []prometheus.Collector{m.members, m.verify} {
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

func (m *metrics) verified(result string) {
	m.verify.WithLabelValues(result).Inc()
}
