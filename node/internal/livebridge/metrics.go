package livebridge

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	// relayDelay is the time from a part's publication on the relay at
	// the ingest node to it being listed here (edges only): the relay's
	// whole contribution to latency, one or more hops.
	relayDelay prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{relayDelay: prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "classmesh_live_relay_delay_seconds",
		Help: "Time from a part's publication on the relay at the ingest node to it being listed in this edge's playlist (all relay hops; clocks of other hosts add their skew).",
		Buckets: []float64{0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.05, 0.075,
			0.1, 0.2, 0.5, 1, 2, 5},
	})}
	if err := reg.Register(m.relayDelay); err != nil {
		return nil, fmt.Errorf("livebridge: metrics: %w", err)
	}
	return m, nil
}
