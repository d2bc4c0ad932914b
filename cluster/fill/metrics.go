package fill

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/classmesh/classmesh/cluster/internal/promreg"
)

// fillMetrics holds the peer-fill collectors. They always exist, registered
// or not. When a FillServer and a FillClient register with the same
// Registerer they share the collectors.
type fillMetrics struct {
	seconds  *prometheus.HistogramVec // client side, by result
	bytes    *prometheus.CounterVec   // by role
	requests *prometheus.CounterVec   // by role and status
}

func newFillMetrics(reg prometheus.Registerer) (*fillMetrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry() // nil means a private registry
	}
	m := &fillMetrics{
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "classmesh_peer_fill_seconds",
			Help:    "Duration of peer fills seen by the requester, by result.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"result"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_peer_fill_bytes_total",
			Help: "Body bytes of peer fills, received (role=client) or sent (role=server).",
		}, []string{"role"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_peer_fill_requests_total",
			Help: "Peer fill requests by role and response status.",
		}, []string{"role", "status"}),
	}
	var err error
	m.seconds, err = promreg.Register(reg, m.seconds)
	if err != nil {
		return nil, err
	}
	m.bytes, err = promreg.Register(reg, m.bytes)
	if err != nil {
		return nil, err
	}
	m.requests, err = promreg.Register(reg, m.requests)
	if err != nil {
		return nil, err
	}
	return m, nil
}
