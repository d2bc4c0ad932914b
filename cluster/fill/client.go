package fill

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/cluster/transport"
)

// FillResult describes a finished or failed Fetch.
type FillResult struct {
	// Status is the owner's answer, 0 when no header arrived.
	Status FillStatus
	// Size is the announced body size (-1 unknown).
	Size int64
	// Bytes counts body bytes written to the caller's writer. When it is
	// not 0 after an error, the writer holds the first Bytes bytes of the
	// body: a fallback must write only the rest (the node resumes with
	// deterministic packaging) or start over on a fresh writer.
	Bytes int64
	// SHA256 is the digest announced by the owner, nil when none.
	SHA256 []byte
	// Message is the owner's explanation of a non-OK status.
	Message string
}

// opener opens a stream to a peer; Transport.OpenStream in production.
type opener func(ctx context.Context, addr, alpn string) (stream, error)

// FillClient fetches segments from their owners. It is safe for concurrent
// use and holds no resources of its own (connections belong to the
// Transport).
type FillClient struct {
	cfg  FillConfig
	open opener
	m    *fillMetrics
	log  *slog.Logger
	bufs sync.Pool
}

// NewFillClient returns a client that opens streams on t.
func NewFillClient(t *transport.Transport, cfg FillConfig) (*FillClient, error) {
	return newFillClient(cfg, func(ctx context.Context, addr, alpn string) (stream, error) {
		s, err := t.OpenStream(ctx, addr, alpn)
		if err != nil {
			return nil, err
		}
		return s, nil
	})
}

func newFillClient(cfg FillConfig, open opener) (*FillClient, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m, err := newFillMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	c := &FillClient{cfg: cfg, open: open, m: m, log: cfg.Logger}
	c.bufs.New = func() any { b := make([]byte, 64<<10); return &b }
	return c, nil
}

// Fetch asks owner for req and streams the body into w as it arrives.
// A zero req.Hop is sent as 1.
//
// Errors wrap ErrPeerUnavailable (dial failure, first-byte or idle
// timeout, stream reset, owner gone), ErrPeerRefused (status not FillOK),
// ErrFillCorrupt (size or digest mismatch), the caller's context error, or
// the writer's error. FillResult.Bytes says how much reached w.
func (c *FillClient) Fetch(ctx context.Context, owner cluster.Member, req FillRequest, w io.Writer) (FillResult, error) {
	start := time.Now()
	if req.Hop == 0 {
		req.Hop = 1
	}
	res, err := c.fetch(ctx, owner, req, w, start)
	result := "ok"
	switch {
	case err == nil:
	case errors.Is(err, ErrPeerRefused):
		result = "refused"
	case errors.Is(err, ErrPeerUnavailable):
		result = "unavailable"
	case errors.Is(err, ErrFillCorrupt):
		result = "corrupt"
	default:
		result = "error"
	}
	status := result
	if res.Status != 0 && result != "unavailable" {
		status = res.Status.String()
	}
	c.m.seconds.WithLabelValues(result).Observe(time.Since(start).Seconds())
	c.m.requests.WithLabelValues("client", status).Inc()
	c.m.bytes.WithLabelValues("client").Add(float64(res.Bytes))
	if err != nil {
		err = fmt.Errorf("cluster: fill %s from %s: %w", req.Key(), owner.ID, err)
	}
	return res, err
}

func (c *FillClient) fetch(ctx context.Context, owner cluster.Member, req FillRequest, w io.Writer, start time.Time) (FillResult, error) {
	res := FillResult{Size: -1}
	frame, err := req.MarshalBinary()
	if err != nil {
		return res, err
	}
	if owner.QUICAddr == "" {
		return res, fmt.Errorf("%w: no QUIC address", ErrPeerUnavailable)
	}
	fbDeadline := start.Add(c.cfg.FirstByteTimeout)
	dctx, cancel := context.WithDeadline(ctx, fbDeadline)
	st, err := c.open(dctx, owner.QUICAddr, FillALPN)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return res, fmt.Errorf("%w: open stream: %w", ErrPeerUnavailable, err)
	}
	stop := context.AfterFunc(ctx, func() {
		st.CancelRead(codeCanceled)
		st.CancelWrite(codeCanceled)
	})
	defer stop()
	_ = st.SetWriteDeadline(fbDeadline)
	_, werr := st.Write(frame)
	if werr == nil {
		werr = st.Close()
	}
	_ = st.SetReadDeadline(fbDeadline)
	h, err := DecodeFillResponse(st)
	if err != nil {
		st.CancelRead(codeMalformed)
		st.CancelWrite(codeMalformed)
		return res, c.transportErr(ctx, "header", errors.Join(err, werr))
	}
	res.Status, res.Size, res.SHA256, res.Message = h.Status, h.Size, h.SHA256, h.Message
	if h.Status != FillOK {
		st.CancelRead(0)
		return res, fmt.Errorf("%w: %s: %s", ErrPeerRefused, h.Status, h.Message)
	}
	err = c.body(ctx, st, h, w, &res)
	if err != nil {
		st.CancelRead(codeCanceled)
	}
	return res, err
}

// body copies the response body into w, checking size and digest.
func (c *FillClient) body(ctx context.Context, st stream, h FillHeader, w io.Writer, res *FillResult) error {
	bp := c.bufs.Get().(*[]byte)
	defer c.bufs.Put(bp)
	buf := *bp
	var sum hash.Hash
	if h.SHA256 != nil {
		sum = sha256.New()
	}
	for {
		_ = st.SetReadDeadline(time.Now().Add(c.cfg.IdleTimeout))
		n, rerr := st.Read(buf)
		if n > 0 {
			if h.Size >= 0 && res.Bytes+int64(n) > h.Size {
				return fmt.Errorf("%w: body exceeds announced size %d", ErrFillCorrupt, h.Size)
			}
			if sum != nil {
				sum.Write(buf[:n])
			}
			wn, werr := w.Write(buf[:n])
			res.Bytes += int64(wn)
			if werr != nil {
				return fmt.Errorf("cluster: write fill body: %w", werr)
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return c.transportErr(ctx, "body", rerr)
		}
	}
	if h.Size >= 0 && res.Bytes != h.Size {
		return fmt.Errorf("%w: body of %d bytes, announced %d", ErrFillCorrupt, res.Bytes, h.Size)
	}
	if sum != nil && !bytes.Equal(sum.Sum(nil), h.SHA256) {
		return fmt.Errorf("%w: SHA-256 mismatch", ErrFillCorrupt)
	}
	return nil
}

// transportErr classifies a stream error: the caller's cancellation stays
// a context error, everything else is ErrPeerUnavailable.
func (c *FillClient) transportErr(ctx context.Context, stage string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s: %w", stage, cerr)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%w: %s timeout: %w", ErrPeerUnavailable, stage, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrPeerUnavailable, stage, err)
}
