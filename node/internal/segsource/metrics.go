package segsource

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	// forwards counts hop-1 requests forwarded once to another owner.
	forwards prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{forwards: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "classmesh_fill_forwards_total",
		Help: "Fill requests from another node for a segment this node neither owns in its view of the ring nor holds, forwarded once to the owner it sees (rings disagreed).",
	})}
	if err := reg.Register(m.forwards); err != nil {
		return nil, fmt.Errorf("segsource: metrics: %w", err)
	}
	return m, nil
}
