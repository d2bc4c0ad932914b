package remote

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// serverMetrics counts the requests a Server answered, refusals included.
type serverMetrics struct {
	requests *prometheus.CounterVec
}

// newServerMetrics registers the server's metrics on reg; nil means a
// private registry (the metrics exist but are not exported).
func newServerMetrics(reg prometheus.Registerer) (*serverMetrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &serverMetrics{requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "classmesh_remote_origin_requests_total",
		Help: "Remote-origin requests this node answered for other nodes, by op (list, stat, read, invalid) and answer status.",
	}, []string{"op", "status"})}
	if err := reg.Register(m.requests); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, fmt.Errorf("remote: metrics: %w", err)
		}
		m.requests = are.ExistingCollector.(*prometheus.CounterVec)
	}
	return m, nil
}

// answered counts one answer to a request of op (0 when it did not decode).
func (m *serverMetrics) answered(op Op, st Status) {
	m.requests.WithLabelValues(op.String(), st.String()).Inc()
}
