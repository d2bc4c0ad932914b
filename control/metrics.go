package control

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	applied       prometheus.Gauge
	leaderChanges prometheus.Counter
	applyLatency  prometheus.Histogram
	batchSize     prometheus.Histogram
	// refusals counts writes refused before proposing and forwarding
	// failures, by reason (see CountRefusal and the reasons used in
	// forward.go and forward_token.go).
	refusals     *prometheus.CounterVec
	tokenLookups *prometheus.CounterVec
	collectors   []prometheus.Collector
	reg          prometheus.Registerer
}

func newMetrics(reg prometheus.Registerer, node string) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry() // nil means a private registry
	}
	labels := prometheus.Labels{"node": node}
	m := &metrics{
		applied: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "classmesh", Subsystem: "catalog", Name: "applied_index",
			Help: "Raft index of the last entry applied to the catalog.", ConstLabels: labels,
		}),
		leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "classmesh", Subsystem: "catalog", Name: "leader_changes_total",
			Help: "Leader changes observed by this node.", ConstLabels: labels,
		}),
		applyLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "classmesh", Subsystem: "catalog", Name: "apply_seconds",
			Help: "Time from proposing a raft entry of catalog writes to its application on the leader.", ConstLabels: labels,
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "classmesh", Subsystem: "catalog", Name: "batch_commands",
			Help: "Writes carried by each raft log entry the leader proposed.", ConstLabels: labels,
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "classmesh", Subsystem: "catalog", Name: "refusals_total",
			Help: "Catalog requests refused or failed by reason: control_character, link_not_owner, link_no_owner, " +
				"sign_not_owner, leader_changed, leader_unreachable, no_leader.", ConstLabels: labels,
		}, []string{"reason"}),
		tokenLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "classmesh", Subsystem: "catalog", Name: "token_lookups_total",
			Help: "API tokens unknown to this replica looked up at the leader, by result: found, unknown, unavailable, busy.", ConstLabels: labels,
		}, []string{"result"}),
		reg: reg,
	}
	m.collectors = []prometheus.Collector{m.applied, m.leaderChanges, m.applyLatency, m.batchSize, m.refusals, m.tokenLookups}
	for _, c := range m.collectors {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				m.unregister()
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *metrics) unregister() {
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}

// CountRefusal counts a catalog request refused for reason (a short
// snake_case word), in classmesh_catalog_refusals_total. The API layer and
// the node's playback-token handler call it for the checks they make.
func (s *Store) CountRefusal(reason string) {
	if s.metrics != nil {
		s.metrics.refusals.WithLabelValues(reason).Inc()
	}
}
