package fill

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/quic-go/quic-go"
)

// MaxFillHops bounds how far a fill request travels: a requester sends Hop
// 1 to the owner it sees; a receiver that is not the owner in its own view
// and does not hold the segment may forward it once, with Hop 2, to the
// owner it sees; a receiver of Hop 2 answers from its cache or origin. So
// disagreeing rings cost at most one extra hop and never a loop.
const MaxFillHops = 2

// Fill defaults.
const (
	DefaultFillFirstByteTimeout = 2 * time.Second
	DefaultFillIdleTimeout      = 5 * time.Second
	DefaultFillRequestTimeout   = 5 * time.Second
	DefaultFillWriteTimeout     = 10 * time.Second
	DefaultFillMaxConcurrent    = 64
)

// Stream error codes used when resetting fill and origin streams.
const (
	codeHandlerFailed quic.StreamErrorCode = 0x101 // server failed after the header
	codeCanceled      quic.StreamErrorCode = 0x102 // requester gave up
	codeShortBody     quic.StreamErrorCode = 0x103 // handler wrote less than Size
	codeMalformed     quic.StreamErrorCode = 0x104 // unusable frame
)

// Fill errors.
var (
	// ErrPeerUnavailable means the owner could not be reached, timed out
	// or reset the stream. The caller falls back to the next owner or the
	// origin when FillResult.Bytes is 0.
	ErrPeerUnavailable = errors.New("cluster: peer unavailable")
	// ErrPeerRefused means the owner answered with a status other than
	// FillOK; FillResult.Status and Message tell which.
	ErrPeerRefused = errors.New("cluster: peer refused fill")
	// ErrFillCorrupt means the body did not match its announced size or
	// SHA-256.
	ErrFillCorrupt = errors.New("cluster: fill body corrupt")
	// ErrBadFillConfig is wrapped by FillConfig.Validate errors.
	ErrBadFillConfig = errors.New("cluster: bad fill config")
)

// FillConfig configures a FillServer and a FillClient.
type FillConfig struct {
	// FirstByteTimeout (client) bounds the time from Fetch to the response
	// header, dial included. 0 means 2 s.
	FirstByteTimeout time.Duration
	// IdleTimeout (client) bounds the wait between two body reads. 0
	// means 5 s.
	IdleTimeout time.Duration
	// RequestTimeout (server) bounds reading a request frame. 0 means 5 s.
	RequestTimeout time.Duration
	// WriteTimeout (server) bounds each write of the header or body to a
	// slow requester. 0 means 10 s.
	WriteTimeout time.Duration
	// MaxConcurrent (server) bounds fills served at once; beyond it the
	// server answers FillBusy. 0 means 64.
	MaxConcurrent int
	// Logger receives diagnostics. nil discards.
	Logger *slog.Logger
	// Registerer receives the classmesh_peer_fill_* metrics. nil means a
	// private registry. Server and client may share one Registerer.
	Registerer prometheus.Registerer
}

// DefaultFillConfig returns a FillConfig with every default spelled out.
func DefaultFillConfig() FillConfig {
	return FillConfig{
		FirstByteTimeout: DefaultFillFirstByteTimeout,
		IdleTimeout:      DefaultFillIdleTimeout,
		RequestTimeout:   DefaultFillRequestTimeout,
		WriteTimeout:     DefaultFillWriteTimeout,
		MaxConcurrent:    DefaultFillMaxConcurrent,
	}
}

// Validate reports whether the configuration is usable.
func (c FillConfig) Validate() error {
	for name, d := range map[string]time.Duration{
		"FirstByteTimeout": c.FirstByteTimeout, "IdleTimeout": c.IdleTimeout,
		"RequestTimeout": c.RequestTimeout, "WriteTimeout": c.WriteTimeout,
	} {
		if d < 0 {
			return fmt.Errorf("%w: negative %s", ErrBadFillConfig, name)
		}
	}
	if c.MaxConcurrent < 0 {
		return fmt.Errorf("%w: negative MaxConcurrent", ErrBadFillConfig)
	}
	return nil
}

func (c FillConfig) withDefaults() FillConfig {
	d := DefaultFillConfig()
	def := func(v *time.Duration, x time.Duration) {
		if *v == 0 {
			*v = x
		}
	}
	def(&c.FirstByteTimeout, d.FirstByteTimeout)
	def(&c.IdleTimeout, d.IdleTimeout)
	def(&c.RequestTimeout, d.RequestTimeout)
	def(&c.WriteTimeout, d.WriteTimeout)
	c.MaxConcurrent = cmp.Or(c.MaxConcurrent, d.MaxConcurrent)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// stream is the part of *quic.Stream the protocols use.
type stream interface {
	io.Reader
	io.Writer
	Close() error
	CancelRead(quic.StreamErrorCode)
	CancelWrite(quic.StreamErrorCode)
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
	Context() context.Context
}

var _ stream = (*quic.Stream)(nil)

// FillHandler serves fill requests on the owner. The node implements it by
// looking the segment up in its cache and filling it from the origin on a
// miss. A handler may forward a request with Hop 1 once, as Hop 2, to the
// owner in its own view; a request with Hop >= MaxFillHops has already been
// forwarded: the handler must never forward it to another peer, only answer
// it locally (or refuse with FillWrongOwner / FillBusy).
//
// The handler writes a header with WriteHeader, then the body with Write.
// Returning an error before the header answers a status derived from the
// error (see FillStatusError); returning an error after it resets the
// stream so the requester sees a failure, never a short body that looks
// complete. With a known Size the handler must write exactly Size bytes.
type FillHandler interface {
	ServeFill(ctx context.Context, req FillRequest, w FillResponseWriter) error
}

// FillHandlerFunc adapts a function to FillHandler.
type FillHandlerFunc func(ctx context.Context, req FillRequest, w FillResponseWriter) error

// ServeFill calls f.
func (f FillHandlerFunc) ServeFill(ctx context.Context, req FillRequest, w FillResponseWriter) error {
	return f(ctx, req, w)
}

// FillResponseWriter sends a fill response.
type FillResponseWriter interface {
	// WriteHeader sends the response header; only the first call counts,
	// later ones fail.
	WriteHeader(h FillHeader) error
	// Write sends body bytes, sending a {FillOK, Size -1} header first if
	// none was written. Writing past a known Size fails.
	Write(p []byte) (int, error)
	// HeaderWritten reports whether the header was sent.
	HeaderWritten() bool
}

// FillStatusError lets a handler choose the status answered when it
// returns before writing a header.
type FillStatusError struct {
	Status  FillStatus
	Message string
}

// Error implements error.
func (e *FillStatusError) Error() string {
	return "cluster: fill " + e.Status.String() + ": " + e.Message
}

// statusFor maps a handler error to the status answered: a
// *FillStatusError's own status (also when wrapped), FillUnprocessable for
// ErrMalformed, FillError otherwise. The handler maps its own domain's
// errors (the node maps the VOD library's) to a *FillStatusError: cluster
// knows nothing of origins.
func statusFor(err error) FillStatus {
	var se *FillStatusError
	switch {
	case errors.As(err, &se) && se.Status.valid() && se.Status != FillOK:
		return se.Status
	case errors.Is(err, ErrMalformed):
		return FillUnprocessable
	}
	return FillError
}

// fillWriter implements FillResponseWriter on a stream.
type fillWriter struct {
	st      stream
	timeout time.Duration
	header  bool
	size    int64
	written int64
	status  FillStatus
}

func (w *fillWriter) HeaderWritten() bool { return w.header }

func (w *fillWriter) WriteHeader(h FillHeader) error {
	if w.header {
		return errors.New("cluster: fill header already written")
	}
	h.Message = truncMsg(h.Message)
	if h.Status != FillOK {
		h.Size, h.SHA256 = -1, nil
	}
	b, err := h.MarshalBinary()
	if err != nil {
		return err
	}
	w.header, w.size, w.status = true, h.Size, h.Status
	return w.write(b)
}

func (w *fillWriter) Write(p []byte) (int, error) {
	if !w.header {
		if err := w.WriteHeader(FillHeader{Status: FillOK, Size: -1}); err != nil {
			return 0, err
		}
	}
	if w.status != FillOK {
		return 0, fmt.Errorf("cluster: fill body after status %s", w.status)
	}
	if w.size >= 0 && w.written+int64(len(p)) > w.size {
		return 0, fmt.Errorf("cluster: fill body exceeds announced size %d", w.size)
	}
	if err := w.write(p); err != nil {
		return 0, err
	}
	w.written += int64(len(p))
	return len(p), nil
}

func (w *fillWriter) write(p []byte) error {
	if err := w.st.SetWriteDeadline(time.Now().Add(w.timeout)); err != nil {
		return err
	}
	_, err := w.st.Write(p)
	return err
}
