package node

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics counts requests by route pattern and status.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bytes    *prometheus.CounterVec

	// children caches the labelled series: resolving labels hashes them
	// on every call, which shows in the hot-playlist profile.
	mu       sync.RWMutex
	children map[routeCode]*routeSeries
	egress   *egressMeter
}

type routeCode struct {
	route string
	code  int
}

type routeSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
	bytes    prometheus.Counter
}

func (m *httpMetrics) series(route string, code int) *routeSeries {
	k := routeCode{route, code}
	m.mu.RLock()
	s := m.children[k]
	m.mu.RUnlock()
	if s != nil {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s = m.children[k]; s == nil {
		s = &routeSeries{
			requests: m.requests.WithLabelValues(route, strconv.Itoa(code)),
			duration: m.duration.WithLabelValues(route),
			bytes:    m.bytes.WithLabelValues(route),
		}
		m.children[k] = s
	}
	return s
}

func newHTTPMetrics(reg prometheus.Registerer, egress *egressMeter) *httpMetrics {
	if reg == nil {
		reg = prometheus.NewRegistry() // nil means a private registry
	}
	m := &httpMetrics{
		egress:   egress,
		children: make(map[routeCode]*routeSeries),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "classmesh_http_request_seconds",
			Help:    "Time to answer an HTTP request (until the last byte), by route pattern.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14),
		}, []string{"route"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "classmesh_http_response_bytes_total",
			Help: "Body bytes sent, by route pattern.",
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration, m.bytes)
	return m
}

func (m *httpMetrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			route := r.Pattern
			if route == "" {
				route = "none"
			}
			code := sw.code
			if code == 0 {
				code = http.StatusOK
			}
			s := m.series(route, code)
			s.requests.Inc()
			s.duration.Observe(time.Since(start).Seconds())
			s.bytes.Add(float64(sw.n))
			m.egress.add(sw.n)
		}()
		next.ServeHTTP(sw, r)
	})
}

// statusWriter records the status code and body size. It forwards
// io.ReaderFrom so that disk hits keep using sendfile, and Unwrap so that
// http.ResponseController reaches the real writer for flushes.
type statusWriter struct {
	http.ResponseWriter
	code int
	n    int64
}

func (s *statusWriter) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.n += int64(n)
	return n, err
}

func (s *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := s.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(struct{ io.Writer }{s.ResponseWriter}, r)
	}
	s.n += n
	return n, err
}

func (s *statusWriter) Flush() {
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := s.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("node: hijack not supported")
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
