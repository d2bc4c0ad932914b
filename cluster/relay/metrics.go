package relay

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/classmesh/classmesh/cluster/internal/promreg"
)

// relayMetrics holds the classmesh_relay_* collectors. They always exist;
// relays registering on the same Registerer share them.
type relayMetrics struct {
	subscribers    *prometheus.GaugeVec // by track
	upstreams      prometheus.Gauge
	upstreamOpened prometheus.Counter
	bytes          *prometheus.CounterVec   // by direction
	dropped        *prometheus.CounterVec   // by reason
	cancelled      *prometheus.CounterVec   // by reason
	age            *prometheus.HistogramVec // by destination
}

func newRelayMetrics(reg prometheus.Registerer) (*relayMetrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry() // nil means a private registry
	}
	m := &relayMetrics{
		subscribers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "classmesh_relay_subscribers",
			Help: "Subscribers per track on this node, local and remote.",
		}, []string{"track"}),
		upstreams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "classmesh_relay_upstream_subscriptions",
			Help: "Open upstream subscriptions (one per track fed from another node).",
		}),
		upstreamOpened: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "classmesh_relay_upstream_subscribes_total",
			Help: "Upstream subscriptions opened.",
		}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_relay_bytes_total",
			Help: "Relay bytes on group streams, by direction (sent, received).",
		}, []string{"direction"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_relay_objects_dropped_total",
			Help: "Objects not delivered (to a subscriber, or refused by the cache), by reason.",
		}, []string{"reason"}),
		cancelled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_relay_groups_cancelled_total",
			Help: "Groups abandoned for one subscriber before they were fully sent, by reason.",
		}, []string{"reason"}),
		age: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "classmesh_relay_object_age_seconds",
			Help:    "Age of objects (now minus creation at the origin) when sent, by destination (remote, local).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"to"}),
	}
	var err error
	if m.subscribers, err = promreg.Register(reg, m.subscribers); err != nil {
		return nil, err
	}
	if m.upstreams, err = promreg.Register(reg, m.upstreams); err != nil {
		return nil, err
	}
	if m.upstreamOpened, err = promreg.Register(reg, m.upstreamOpened); err != nil {
		return nil, err
	}
	if m.bytes, err = promreg.Register(reg, m.bytes); err != nil {
		return nil, err
	}
	if m.dropped, err = promreg.Register(reg, m.dropped); err != nil {
		return nil, err
	}
	if m.cancelled, err = promreg.Register(reg, m.cancelled); err != nil {
		return nil, err
	}
	if m.age, err = promreg.Register(reg, m.age); err != nil {
		return nil, err
	}
	return m, nil
}
