package fill

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/classmesh/classmesh/cluster/transport"
	"github.com/classmesh/classmesh/internal/drain"
)

// FillServer answers fill requests with a FillHandler. Close waits for the
// fills in progress after canceling their contexts.
type FillServer struct {
	cfg   FillConfig
	h     FillHandler
	m     *fillMetrics
	log   *slog.Logger
	slots chan struct{}
	d     *drain.Group
}

// NewFillServer returns a server for h; register it with Register.
func NewFillServer(cfg FillConfig, h FillHandler) (*FillServer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if h == nil {
		return nil, errors.New("cluster: nil fill handler")
	}
	cfg = cfg.withDefaults()
	m, err := newFillMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &FillServer{
		cfg: cfg, h: h, m: m, log: cfg.Logger,
		slots: make(chan struct{}, cfg.MaxConcurrent),
		d:     drain.New(),
	}, nil
}

// ServeFill registers a FillServer with the default configuration for
// FillALPN on t.
func ServeFill(t *transport.Transport, h FillHandler) (*FillServer, error) {
	s, err := NewFillServer(DefaultFillConfig(), h)
	if err != nil {
		return nil, err
	}
	s.Register(t)
	return s, nil
}

// Register makes t route FillALPN streams to s.
func (s *FillServer) Register(t *transport.Transport) {
	t.Handle(FillALPN, s.HandleStream)
}

// Close refuses new requests, cancels the running ones and waits for them.
func (s *FillServer) Close() error { return s.d.Close() }

// HandleStream serves one fill stream; it is a StreamHandler.
func (s *FillServer) HandleStream(ctx context.Context, peer transport.PeerInfo, st *quic.Stream) {
	s.serve(ctx, peer, st)
}

func (s *FillServer) serve(ctx context.Context, peer transport.PeerInfo, st stream) {
	if !s.d.Enter() {
		s.refuse(st, FillBusy, "server closing")
		return
	}
	defer s.d.Leave()
	_ = st.SetReadDeadline(time.Now().Add(s.cfg.RequestTimeout))
	req, err := DecodeFillRequest(st)
	if err != nil {
		s.log.Debug("cluster: bad fill request", "peer", peer.NodeID, "err", err)
		s.refuse(st, decodeErrStatus(err), err.Error())
		return
	}
	st.CancelRead(0) // nothing more is expected from the requester
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		s.refuse(st, FillBusy, "too many fills")
		return
	}
	hctx, cancel := drain.Merge(ctx, s.d.Context(), st.Context())
	defer cancel()
	w := &fillWriter{st: st, timeout: s.cfg.WriteTimeout}
	herr := s.h.ServeFill(hctx, req, w)
	s.finish(st, w, req, peer, herr)
}

// finish completes the stream after the handler returned.
func (s *FillServer) finish(st stream, w *fillWriter, req FillRequest, peer transport.PeerInfo, herr error) {
	switch {
	case herr != nil && !w.header:
		s.refuse(st, statusFor(herr), herr.Error())
		return
	case herr == nil && !w.header:
		s.refuse(st, FillError, "handler wrote no response")
		return
	}
	s.m.bytes.WithLabelValues("server").Add(float64(w.written))
	switch {
	case herr != nil:
		s.log.Warn("cluster: fill failed after header", "peer", peer.NodeID,
			"key", req.Key(), "sent", w.written, "err", herr)
		st.CancelWrite(codeHandlerFailed)
		s.m.requests.WithLabelValues("server", "aborted").Inc()
	case w.size >= 0 && w.written != w.size:
		s.log.Warn("cluster: fill handler wrote a short body", "peer", peer.NodeID,
			"key", req.Key(), "sent", w.written, "size", w.size)
		st.CancelWrite(codeShortBody)
		s.m.requests.WithLabelValues("server", "aborted").Inc()
	default:
		_ = st.Close()
		s.m.requests.WithLabelValues("server", w.status.String()).Inc()
	}
}

// refuse answers a status without body and closes the stream.
func (s *FillServer) refuse(st stream, status FillStatus, msg string) {
	s.m.requests.WithLabelValues("server", status.String()).Inc()
	w := &fillWriter{st: st, timeout: s.cfg.WriteTimeout}
	if err := w.WriteHeader(FillHeader{Status: status, Size: -1, Message: msg}); err != nil {
		st.CancelWrite(codeMalformed)
	} else {
		_ = st.Close()
	}
	st.CancelRead(codeMalformed)
}
