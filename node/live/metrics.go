package live

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the package's Prometheus collectors; they always exist (a nil
// Registerer gets a private registry).
type metrics struct {
	ingestBytes *prometheus.CounterVec
	parts       *prometheus.CounterVec
	held        prometheus.Gauge
	viewers     *prometheus.Desc
	sessions    *prometheus.Desc
	m           *Manager
}

func newMetrics(reg prometheus.Registerer, m *Manager) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry() // nil means a private registry
	}
	met := &metrics{
		ingestBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_live_ingest_bytes_total",
			Help: "Media bytes received from the publisher, per session (rate() gives the ingest bit rate / 8).",
		}, []string{"session"}),
		parts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_live_parts_total",
			Help: "CMAF parts produced by the live packager.",
		}, []string{"rendition"}),
		held: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "classmesh_live_blocking_requests",
			Help: "LL-HLS requests currently held (blocking playlist reloads, preload-hinted parts).",
		}),
		viewers: prometheus.NewDesc("classmesh_live_viewers",
			"Approximate viewers per session: distinct clients (address and User-Agent) that asked for a media playlist within the viewer window.",
			[]string{"session"}, nil),
		sessions: prometheus.NewDesc("classmesh_live_sessions",
			"Live sessions that have not ended, by role (published here or relayed).", []string{"role"}, nil),
		m: m,
	}
	for _, c := range []prometheus.Collector{met.ingestBytes, met.parts, met.held, met} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("live: register metrics: %w", err)
		}
	}
	return met, nil
}

// Describe and Collect export the per-session gauges computed at scrape
// time.
func (met *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- met.viewers
	ch <- met.sessions
}

func (met *metrics) Collect(ch chan<- prometheus.Metric) {
	now := met.m.cfg.Now()
	var published, relayed float64
	for _, s := range met.m.Sessions() {
		if !s.Ended() {
			if s.remote {
				relayed++
			} else {
				published++
			}
		}
		n := s.viewers.count(now, met.m.cfg.ViewerWindow)
		ch <- prometheus.MustNewConstMetric(met.viewers, prometheus.GaugeValue, float64(n), s.id)
	}
	ch <- prometheus.MustNewConstMetric(met.sessions, prometheus.GaugeValue, published, "published")
	ch <- prometheus.MustNewConstMetric(met.sessions, prometheus.GaugeValue, relayed, "relayed")
}

func (met *metrics) ingest(session string, n int) {
	met.ingestBytes.WithLabelValues(session).Add(float64(n))
}

func (met *metrics) part(rendition string) {
	met.parts.WithLabelValues(rendition).Inc()
}

func (met *metrics) hold(delta float64) {
	met.held.Add(delta)
}

func (met *metrics) forget(session string) {
	met.ingestBytes.DeleteLabelValues(session)
}

// maxViewerKeys bounds the requesters remembered per session.
const maxViewerKeys = 1 << 16

// viewerSet remembers when each requester last asked for a playlist.
type viewerSet struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// note records a request from key at now; entries older than window are
// dropped when the set is full.
func (v *viewerSet) note(key string, now time.Time, window time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen == nil {
		v.seen = map[string]time.Time{}
	}
	if _, ok := v.seen[key]; !ok && len(v.seen) >= maxViewerKeys {
		v.pruneLocked(now, window)
		if len(v.seen) >= maxViewerKeys {
			return
		}
	}
	v.seen[key] = now
}

func (v *viewerSet) pruneLocked(now time.Time, window time.Duration) {
	for k, t := range v.seen {
		if now.Sub(t) > window {
			delete(v.seen, k)
		}
	}
}

// count returns the requesters seen within window, pruning the others.
func (v *viewerSet) count(now time.Time, window time.Duration) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.pruneLocked(now, window)
	return len(v.seen)
}
