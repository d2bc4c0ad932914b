package vod

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the library's Prometheus collectors; they always exist (a nil
// Registerer gets a private registry).
type metrics struct {
	packaging   *prometheus.HistogramVec
	originBytes prometheus.Counter
	indexReads  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry() // nil means a private registry
	}
	m := &metrics{
		packaging: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "classmesh_packaging_seconds",
			Help:    "Time to package an init section or a media segment.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14), // 1 ms .. ~8 s
		}, []string{"kind"}),
		originBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "classmesh_origin_bytes_total",
			Help: "Sample bytes read from the origin for packaging.",
		}),
		indexReads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "classmesh_vod_files_indexed_total",
			Help: "MP4 files whose metadata was read from the origin (index misses).",
		}),
	}
	for _, c := range []prometheus.Collector{m.packaging, m.originBytes, m.indexReads} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("vod: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) observe(kind string, start time.Time) {
	m.packaging.WithLabelValues(kind).Observe(time.Since(start).Seconds())
}

func (m *metrics) readBytes(n int) {
	m.originBytes.Add(float64(n))
}

func (m *metrics) indexed() {
	m.indexReads.Inc()
}
