package rtmp

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a connection ends, as labels of
// classmesh_rtmp_connections_closed_total.
const (
	reasonClean          = "clean"
	reasonServerClosed   = "server_closed"
	reasonMaxConnections = "max_connections"
	reasonPerAddr        = "per_addr"        // too many pending connections from one address
	reasonEvicted        = "evicted"         // pending, and the oldest when the server was full
	reasonPublishTimeout = "publish_timeout" // no publish within PublishTimeout
	reasonHandshake      = "handshake"
	reasonTimeout        = "timeout"
	reasonProtocol       = "protocol"
	reasonLimit          = "limit"
	reasonUnsupported    = "unsupported"
	reasonRefused        = "refused"
	reasonStream         = "stream_error"
	reasonNetwork        = "network"
)

// Media kinds, as labels of classmesh_rtmp_media_messages_total.
const (
	kindVideo       = "video"
	kindAudio       = "audio"
	kindVideoConfig = "video_config"
	kindAudioConfig = "audio_config"
	kindMetadata    = "metadata"
)

// metrics holds the server's collectors. They always exist, registered or
// not, so the code paths need no nil checks.
type metrics struct {
	connections prometheus.Gauge
	publishing  prometheus.Gauge
	closed      *prometheus.CounterVec
	refused     *prometheus.CounterVec
	bytes       prometheus.Counter
	media       *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		reg = prometheus.NewRegistry() // nil means a private registry
	}
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "classmesh_rtmp_connections",
			Help: "Open RTMP connections.",
		}),
		publishing: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "classmesh_rtmp_publishing",
			Help: "RTMP connections currently publishing.",
		}),
		closed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_rtmp_connections_closed_total",
			Help: "RTMP connections ended, by reason (clean, refused, protocol, limit, unsupported, timeout, ...).",
		}, []string{"reason"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_rtmp_publish_refused_total",
			Help: "Publish commands refused, by reason (unknown_key, denied, app).",
		}, []string{"reason"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "classmesh_rtmp_received_bytes_total",
			Help: "Bytes received on RTMP connections (rate() gives the ingest bitrate).",
		}),
		media: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_rtmp_media_messages_total",
			Help: "Media messages received from publishers, by kind.",
		}, []string{"kind"}),
	}
	for _, k := range []string{kindVideo, kindAudio, kindVideoConfig, kindAudioConfig, kindMetadata} {
		m.media.WithLabelValues(k)
	}
	for _, c := range []prometheus.Collector{m.connections, m.publishing, m.closed, m.refused, m.bytes, m.media} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("rtmp: register metrics: %w", err)
		}
	}
	return m, nil
}
