package cache

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Tier names, as returned by Entry.Tier and used as metric labels.
const (
	TierMemory = "memory"
	TierDisk   = "disk"
	TierFill   = "fill"
)

// metrics holds the cache's collectors. They always exist, registered or not,
// so the code paths need no nil checks.
type metrics struct {
	hits       *prometheus.CounterVec
	misses     prometheus.Counter
	bytes      *prometheus.GaugeVec
	objects    *prometheus.GaugeVec
	evictions  *prometheus.CounterVec
	served     *prometheus.CounterVec
	fills      *prometheus.CounterVec
	fillErrors prometheus.Counter
	fillTime   prometheus.Histogram
	// indexResets counts starts that found the disk index corrupt and
	// dropped the disk tier's contents.
	indexResets prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry() // nil means a private registry
	}
	m := &metrics{
		hits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_cache_hits_total",
			Help: "Gets answered without starting a fill, by tier (fill = joined an in-flight fill).",
		}, []string{"tier"}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "classmesh_cache_misses_total",
			Help: "Gets that started a fill.",
		}),
		bytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "classmesh_cache_bytes",
			Help: "Bytes held, by tier.",
		}, []string{"tier"}),
		objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "classmesh_cache_objects",
			Help: "Objects held, by tier.",
		}, []string{"tier"}),
		evictions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_cache_evictions_total",
			Help: "Objects evicted by the policy, by tier.",
		}, []string{"tier"}),
		served: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_cache_served_bytes_total",
			Help: "Body bytes of hits handed out, by tier (object size per hit).",
		}, []string{"tier"}),
		fills: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_cache_fills_total",
			Help: "Fills started, by source.",
		}, []string{"source"}),
		fillErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "classmesh_cache_fill_errors_total",
			Help: "Fills that failed (nothing was stored).",
		}),
		fillTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "classmesh_cache_fill_seconds",
			Help:    "Duration of fills, successful or not.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}),
		indexResets: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "classmesh_cache_index_resets_total",
			Help: "Starts that found the disk index corrupt and dropped the disk tier's contents (see the WARN log line).",
		}),
	}
	for _, t := range []string{TierMemory, TierDisk} {
		m.bytes.WithLabelValues(t)
		m.objects.WithLabelValues(t)
		m.evictions.WithLabelValues(t)
	}
	for _, c := range []prometheus.Collector{m.hits, m.misses, m.bytes, m.objects,
		m.evictions, m.served, m.fills, m.fillErrors, m.fillTime, m.indexResets} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("cache: register metrics: %w", err)
		}
	}
	return m, nil
}
