package rtmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Server accepts RTMP publishers and hands their media to a Publisher.
type Server struct {
	cfg   Config
	pub   Publisher
	log   *slog.Logger
	m     *metrics
	epoch time.Time

	ctx    context.Context // ends on Close
	cancel context.CancelFunc

	mu      sync.Mutex
	ln      net.Listener
	conns   map[*conn]struct{}
	started bool
	closed  bool
	wg      sync.WaitGroup
}

// NewServer validates cfg and returns a Server that is not listening yet.
func NewServer(cfg Config, p Publisher) (*Server, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: nil Publisher", ErrInvalidConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		cfg:    cfg,
		pub:    p,
		log:    cfg.Logger,
		m:      m,
		epoch:  time.Now(),
		ctx:    ctx,
		cancel: cancel,
		conns:  map[*conn]struct{}{},
	}, nil
}

// Start listens on Config.Addr and accepts connections in the background
// until Close. ctx bounds only the listen call.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrServerClosed
	case s.started:
		return errors.New("rtmp: server already started")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("rtmp: listen: %w", err)
	}
	s.started, s.ln = true, ln
	s.wg.Add(1)
	go s.acceptLoop(ln)
	s.log.Info("rtmp: listening", "addr", ln.Addr().String(), "app", s.cfg.App)
	return nil
}

// Addr returns the bound address, or nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Close stops accepting, closes every connection (their Streams get
// ErrServerClosed) and waits for their goroutines. A Stream method that
// blocks delays Close until it returns; the Publish context is cancelled
// first.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ln := s.ln
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.cancel()
	if ln != nil {
		ln.Close()
	}
	for _, c := range conns {
		c.nc.Close()
	}
	s.wg.Wait()
	return nil
}

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("rtmp: accept", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
				continue
			case <-s.ctx.Done():
				return
			}
		}
		backoff = 0
		s.admit(nc)
	}
}

// admit starts a goroutine for nc unless the server is closed or full.
func (s *Server) admit(nc net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		nc.Close()
		return
	}
	if len(s.conns) >= s.cfg.MaxConnections {
		nc.Close()
		s.m.closed.WithLabelValues(reasonMaxConnections).Inc()
		s.log.Warn("rtmp: connection refused", "remote", nc.RemoteAddr().String(),
			"reason", fmt.Sprintf("more than %d connections", s.cfg.MaxConnections))
		return
	}
	c := newConn(s, nc)
	s.conns[c] = struct{}{}
	s.m.connections.Inc()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		c.run()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.m.connections.Dec()
	}()
}
