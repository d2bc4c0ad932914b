package cluster

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/classmesh/classmesh/node/origin"
)

// Remote-origin defaults.
const (
	DefaultRemoteTimeout       = 10 * time.Second
	DefaultRemoteBlockSize     = 1 << 20
	DefaultRemoteCacheBlocks   = 4
	DefaultRemoteMaxConcurrent = 32
)

// ErrBadRemoteConfig is wrapped by RemoteConfig.Validate errors.
var ErrBadRemoteConfig = errors.New("cluster: bad remote origin config")

// RemoteConfig configures an OriginServer and a RemoteOrigin.
type RemoteConfig struct {
	// Timeout bounds one request (LIST, STAT or one READ block), and on the
	// server the reading of a request and each write. 0 means 10 s.
	Timeout time.Duration
	// BlockSize (client) is the READ granularity of objects, at most
	// MaxOriginRead. 0 means 1 MiB.
	BlockSize int
	// CacheBlocks (client) is how many blocks each open object keeps,
	// least recently used evicted first. 0 means 4.
	CacheBlocks int
	// MaxConcurrent (server) bounds requests served at once; beyond it the
	// server answers busy. 0 means 32.
	MaxConcurrent int
	// Logger receives diagnostics. nil discards.
	Logger *slog.Logger
}

// DefaultRemoteConfig returns a RemoteConfig with every default spelled out.
func DefaultRemoteConfig() RemoteConfig {
	return RemoteConfig{
		Timeout:       DefaultRemoteTimeout,
		BlockSize:     DefaultRemoteBlockSize,
		CacheBlocks:   DefaultRemoteCacheBlocks,
		MaxConcurrent: DefaultRemoteMaxConcurrent,
	}
}

// Validate reports whether the configuration is usable.
func (c RemoteConfig) Validate() error {
	switch {
	case c.Timeout < 0:
		return fmt.Errorf("%w: negative Timeout", ErrBadRemoteConfig)
	case c.BlockSize < 0 || c.BlockSize > MaxOriginRead:
		return fmt.Errorf("%w: BlockSize out of [0, %d]", ErrBadRemoteConfig, MaxOriginRead)
	case c.CacheBlocks < 0:
		return fmt.Errorf("%w: negative CacheBlocks", ErrBadRemoteConfig)
	case c.MaxConcurrent < 0:
		return fmt.Errorf("%w: negative MaxConcurrent", ErrBadRemoteConfig)
	}
	return nil
}

func (c RemoteConfig) withDefaults() RemoteConfig {
	d := DefaultRemoteConfig()
	c.Timeout = cmp.Or(c.Timeout, d.Timeout)
	c.BlockSize = cmp.Or(c.BlockSize, d.BlockSize)
	c.CacheBlocks = cmp.Or(c.CacheBlocks, d.CacheBlocks)
	c.MaxConcurrent = cmp.Or(c.MaxConcurrent, d.MaxConcurrent)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// OriginSource is the media library an origin-role node serves to its
// peers; *origin.Dir and *origin.HTTP implement it.
type OriginSource interface {
	List(ctx context.Context) ([]origin.AssetSpec, error)
	Open(ctx context.Context, path string) (origin.Object, error)
}

// OriginServer answers remote-origin requests (LIST, STAT, READ) from an
// OriginSource. Every path goes through origin.CleanPath before the source
// sees it. Close waits for requests in progress.
type OriginServer struct {
	cfg   RemoteConfig
	src   OriginSource
	log   *slog.Logger
	slots chan struct{}
	drainer
}

// NewOriginServer returns a server for src; register it with Register.
func NewOriginServer(cfg RemoteConfig, src OriginSource) (*OriginServer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if src == nil {
		return nil, errors.New("cluster: nil origin source")
	}
	cfg = cfg.withDefaults()
	return &OriginServer{cfg: cfg, src: src, log: cfg.Logger,
		slots: make(chan struct{}, cfg.MaxConcurrent), drainer: newDrainer()}, nil
}

// ServeOrigin registers an OriginServer with the default configuration for
// OriginALPN on t.
func ServeOrigin(t *Transport, o OriginSource) (*OriginServer, error) {
	s, err := NewOriginServer(DefaultRemoteConfig(), o)
	if err != nil {
		return nil, err
	}
	s.Register(t)
	return s, nil
}

// Register makes t route OriginALPN streams to s.
func (s *OriginServer) Register(t *Transport) { t.Handle(OriginALPN, s.HandleStream) }

// HandleStream serves one remote-origin stream; it is a StreamHandler.
func (s *OriginServer) HandleStream(ctx context.Context, peer PeerInfo, st *quic.Stream) {
	s.serve(ctx, peer, st)
}

func (s *OriginServer) serve(ctx context.Context, peer PeerInfo, st stream) {
	if !s.enter() {
		s.answer(st, originResponse{Status: FillBusy, Message: "server closing"}, nil)
		return
	}
	defer s.leave()
	_ = st.SetReadDeadline(time.Now().Add(s.cfg.Timeout))
	req, err := DecodeOriginRequest(st)
	if err != nil {
		s.log.Debug("cluster: bad origin request", "peer", peer.NodeID, "err", err)
		s.answer(st, originResponse{Status: decodeErrStatus(err), Message: truncMsg(err.Error())}, nil)
		return
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		s.answer(st, originResponse{Status: FillBusy, Message: "too many requests"}, nil)
		return
	}
	rctx, cancel := mergeCtx(ctx, s.ctx, st.Context())
	defer cancel()
	rctx, cancel2 := context.WithTimeout(rctx, s.cfg.Timeout)
	defer cancel2()
	resp, body := s.do(rctx, req)
	s.answer(st, resp, body)
}

// do executes one request and returns the header and body to send.
func (s *OriginServer) do(ctx context.Context, req OriginRequest) (originResponse, []byte) {
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
	resp := originResponse{Status: FillOK, Size: obj.Size(), Identity: truncString(obj.Identity(), maxIdentity)}
	if req.Op == OpStat {
		return resp, nil
	}
	if req.Offset > obj.Size() {
		return originResponse{Status: FillUnprocessable, Message: "offset beyond end of file"}, nil
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

func (s *OriginServer) list(ctx context.Context) (originResponse, []byte) {
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
	if len(b) > MaxOriginList {
		return originResponse{Status: FillError, Message: "asset list too large"}, nil
	}
	return originResponse{Status: FillOK, Size: int64(len(b))}, b
}

// errResponse maps an origin error to a response header.
func errResponse(err error) originResponse {
	st := FillError
	switch {
	case errors.Is(err, origin.ErrNotFound):
		st = FillNotFound
	case errors.Is(err, origin.ErrBadPath):
		st = FillUnprocessable
	}
	return originResponse{Status: st, Message: truncMsg(err.Error())}
}

// answer writes the header and body and finishes the stream.
func (s *OriginServer) answer(st stream, resp originResponse, body []byte) {
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
		s.log.Debug("cluster: origin answer failed", "err", err)
		st.CancelWrite(codeHandlerFailed)
		return
	}
	_ = st.Close()
}
