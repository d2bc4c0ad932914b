package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/classmesh/classmesh/internal/drain"
	"github.com/classmesh/classmesh/internal/frame"
	"github.com/classmesh/classmesh/node/origin"
)

// Source is the media library an origin-role node serves to its peers;
// *origin.Dir and *origin.HTTP implement it.
type Source interface {
	List(ctx context.Context) ([]origin.AssetSpec, error)
	Open(ctx context.Context, path string) (origin.Object, error)
}

// Server answers remote-origin requests (LIST, STAT, READ) from a Source.
// Every path goes through origin.CleanPath before the source sees it. The
// constructor starts nothing; node registers HandleStream on the
// transport for ALPN. Close refuses new requests, cancels the running
// ones and waits for them.
type Server struct {
	cfg   Config
	src   Source
	log   *slog.Logger
	slots chan struct{}
	d     *drain.Group
	m     *serverMetrics
}

// NewServer returns a server for src.
func NewServer(cfg Config, src Source) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, errors.New("remote: nil origin source")
	}
	cfg = cfg.withDefaults()
	m, err := newServerMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, src: src, log: cfg.Logger,
		slots: make(chan struct{}, cfg.MaxConcurrent), d: drain.New(), m: m}, nil
}

// Close refuses new requests, cancels the running ones and waits for them.
func (s *Server) Close() error { return s.d.Close() }

// HandleStream serves one remote-origin stream from the member named peer
// (for logs); ctx is the connection's context.
func (s *Server) HandleStream(ctx context.Context, peer string, st Stream) {
	if !s.d.Enter() {
		s.answer(st, 0, response{Status: StatusBusy, Message: "server closing"}, nil)
		return
	}
	defer s.d.Leave()
	_ = st.SetReadDeadline(time.Now().Add(s.cfg.Timeout))
	req, err := DecodeRequest(st)
	if err != nil {
		s.log.Debug("remote: bad origin request", "peer", peer, "err", err)
		s.answer(st, 0, response{Status: decodeErrStatus(err), Message: frame.TruncMsg(err.Error())}, nil)
		return
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		s.answer(st, req.Op, response{Status: StatusBusy, Message: "too many requests"}, nil)
		return
	}
	rctx, cancel := drain.Merge(ctx, s.d.Context(), st.Context())
	defer cancel()
	rctx, cancel2 := context.WithTimeout(rctx, s.cfg.Timeout)
	defer cancel2()
	resp, body := s.do(rctx, req)
	if resp.Status == StatusUnprocessable {
		s.log.Debug("remote: origin request refused", "peer", peer, "op", req.Op, "path", req.Path, "reason", resp.Message)
	}
	s.answer(st, req.Op, resp, body)
}

// decodeErrStatus maps an error reading a request to the status answered.
func decodeErrStatus(err error) Status {
	if errors.Is(err, frame.ErrMalformed) {
		return StatusUnprocessable
	}
	return StatusError
}

// do executes one request and returns the header and body to send.
func (s *Server) do(ctx context.Context, req Request) (response, []byte) {
	if req.Op == OpList {
		return s.list(ctx)
	}
	p, err := origin.CleanPath(req.Path)
	if err != nil {
		return errResponse(err), nil
	}
	obj, err := s.src.Open(ctx, p)
	if err != nil {
		return errResponse(err), nil
	}
	defer obj.Close()
	resp := response{Status: StatusOK, Size: obj.Size(), Identity: frame.Trunc(obj.Identity(), maxIdentity)}
	if req.Op == OpStat {
		return resp, nil
	}
	if req.Offset > obj.Size() {
		return response{Status: StatusUnprocessable, Message: "offset beyond end of file"}, nil
	}
	n := min(req.Length, obj.Size()-req.Offset)
	buf := make([]byte, n)
	got, err := obj.ReadAt(buf, req.Offset)
	if int64(got) < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = fmt.Errorf("%w: short read", origin.ErrChanged)
		}
		return errResponse(err), nil
	}
	resp.Size = n
	return resp, buf
}

func (s *Server) list(ctx context.Context) (response, []byte) {
	assets, err := s.src.List(ctx)
	if err != nil {
		return errResponse(err), nil
	}
	if assets == nil {
		assets = []origin.AssetSpec{}
	}
	b, err := json.Marshal(assets)
	if err != nil {
		return errResponse(err), nil
	}
	if len(b) > MaxList {
		return response{Status: StatusError, Message: "asset list too large"}, nil
	}
	return response{Status: StatusOK, Size: int64(len(b))}, b
}

// errResponse maps an origin error to a response header.
func errResponse(err error) response {
	st := StatusError
	switch {
	case errors.Is(err, origin.ErrNotFound):
		st = StatusNotFound
	case errors.Is(err, origin.ErrBadPath):
		st = StatusUnprocessable
	}
	return response{Status: st, Message: frame.TruncMsg(err.Error())}
}

// answer counts the answer to op, writes the header and body and finishes
// the stream.
func (s *Server) answer(st Stream, op Op, resp response, body []byte) {
	s.m.answered(op, resp.Status)
	defer st.CancelRead(0)
	hdr, err := resp.marshal()
	if err == nil {
		_ = st.SetWriteDeadline(time.Now().Add(s.cfg.Timeout))
		_, err = st.Write(hdr)
	}
	if err == nil && len(body) > 0 {
		_ = st.SetWriteDeadline(time.Now().Add(s.cfg.Timeout))
		_, err = st.Write(body)
	}
	if err != nil {
		s.log.Debug("remote: origin answer failed", "err", err)
		st.CancelWrite(codeHandlerFailed)
		return
	}
	_ = st.Close()
}
