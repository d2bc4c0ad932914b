package origin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// HTTPConfig configures an HTTP origin.
type HTTPConfig struct {
	// BaseURL is the library root, an http or https URL. Required. A
	// trailing slash is added when missing.
	BaseURL string
	// Client sends the requests. nil means a client with dial, TLS and
	// response-header timeouts, owned by the origin.
	Client *http.Client
	// Timeout bounds each request including reading its body. 0 means 10 s.
	Timeout time.Duration
	// ReadAhead is the block size: the minimum number of bytes fetched by
	// one range request, and the alignment of blocks. 0 means 1 MiB.
	ReadAhead int64
	// CacheBytes bounds the per-object cache of recently fetched blocks.
	// 0 means 4 MiB; it is rounded up to at least one block.
	CacheBytes int64
	// Logger receives warnings about skipped library entries. nil discards.
	Logger *slog.Logger
}

// Defaults applied to zero HTTPConfig fields.
const (
	DefaultHTTPTimeout    = 10 * time.Second
	DefaultHTTPReadAhead  = 1 << 20
	DefaultHTTPCacheBytes = 4 << 20
)

// DefaultConfig returns an HTTPConfig with every default filled in except
// BaseURL.
func DefaultConfig() HTTPConfig {
	return HTTPConfig{
		Timeout:    DefaultHTTPTimeout,
		ReadAhead:  DefaultHTTPReadAhead,
		CacheBytes: DefaultHTTPCacheBytes,
	}
}

// Validate checks the configuration.
func (c HTTPConfig) Validate() error {
	u, err := url.Parse(c.BaseURL)
	switch {
	case c.BaseURL == "":
		return errors.New("origin: BaseURL is required")
	case err != nil:
		return fmt.Errorf("origin: BaseURL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("origin: BaseURL %q: scheme must be http or https", c.BaseURL)
	case u.Host == "":
		return fmt.Errorf("origin: BaseURL %q: missing host", c.BaseURL)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("origin: BaseURL %q: query and fragment not allowed", c.BaseURL)
	case c.Timeout < 0:
		return errors.New("origin: Timeout must not be negative")
	case c.ReadAhead < 0:
		return errors.New("origin: ReadAhead must not be negative")
	case c.CacheBytes < 0:
		return errors.New("origin: CacheBytes must not be negative")
	}
	return nil
}

// withDefaults fills zero fields.
func (c HTTPConfig) withDefaults() HTTPConfig {
	d := DefaultConfig()
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.ReadAhead == 0 {
		c.ReadAhead = d.ReadAhead
	}
	if c.CacheBytes == 0 {
		c.CacheBytes = d.CacheBytes
	}
	c.CacheBytes = max(c.CacheBytes, c.ReadAhead)
	if c.Logger == nil {
		c.Logger = discard()
	}
	return c
}

// HTTPStats counts the requests an HTTP origin sent and the body bytes it
// received.
type HTTPStats struct {
	Requests int64
	Bytes    int64
}

// HTTP is an Origin on an HTTP server that honours Range requests. It is
// safe for concurrent use.
type HTTP struct {
	cfg       HTTPConfig
	base      *url.URL
	client    *http.Client
	ownClient bool
	requests  atomic.Int64
	bytes     atomic.Int64
}

var _ Origin = (*HTTP)(nil)

// NewHTTP returns an HTTP origin. It does not contact the server.
func NewHTTP(cfg HTTPConfig) (*HTTP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	base, _ := url.Parse(cfg.BaseURL) // validated above
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
		if base.RawPath != "" {
			base.RawPath += "/"
		}
	}
	h := &HTTP{cfg: cfg, base: base, client: cfg.Client}
	if h.client == nil {
		h.client, h.ownClient = newClient(), true
	}
	return h, nil
}

// newClient returns a client with connection-level timeouts; request
// deadlines come from per-request contexts.
func newClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 5 * time.Second
	t.ResponseHeaderTimeout = 30 * time.Second
	t.MaxIdleConnsPerHost = 16
	return &http.Client{Transport: t}
}

// String returns the base URL (with its trailing slash).
func (h *HTTP) String() string { return h.base.String() }

// Stats returns the counters since the origin was created.
func (h *HTTP) Stats() HTTPStats {
	return HTTPStats{Requests: h.requests.Load(), Bytes: h.bytes.Load()}
}

// Close closes idle connections of the client the origin created itself.
// Objects must be closed separately.
func (h *HTTP) Close() error {
	if h.ownClient {
		h.client.CloseIdleConnections()
	}
	return nil
}

// urlOf returns the absolute URL of the library-relative path p, which
// must already be clean.
func (h *HTTP) urlOf(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return h.base.String() + strings.Join(segs, "/")
}

// do sends a request with the configured timeout. The returned cancel
// function must be called after the body has been consumed.
func (h *HTTP) do(ctx context.Context, method, u string, hdr http.Header) (*http.Response, context.CancelFunc, error) {
	ctx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("origin: %s %s: %w: %w", method, u, ErrUnavailable, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	h.requests.Add(1)
	resp, err := h.client.Do(req)
	if err != nil {
		cancel()
		return nil, nil, wrapNetErr(method+" "+u, err)
	}
	return resp, cancel, nil
}

// readBody reads at most limit bytes of resp's body, counting them.
func (h *HTTP) readBody(resp *http.Response, limit int64, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	h.bytes.Add(int64(len(data)))
	if err != nil {
		return nil, wrapNetErr("read "+what, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("origin: %s: larger than %d bytes: %w", what, limit, ErrUnavailable)
	}
	return data, nil
}

// get fetches a small document. found is false for 403, 404 and 410.
func (h *HTTP) get(ctx context.Context, u string, limit int64) (data []byte, found bool, err error) {
	resp, cancel, err := h.do(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, false, err
	}
	defer cancel()
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone ||
		resp.StatusCode == http.StatusForbidden:
		return nil, false, nil
	case resp.StatusCode != http.StatusOK:
		return nil, false, statusErr("GET "+u, resp.StatusCode)
	}
	data, err = h.readBody(resp, limit, u)
	return data, err == nil, err
}

// statusErr describes an unexpected status code.
func statusErr(op string, code int) error {
	if code == http.StatusNotFound || code == http.StatusGone {
		return fmt.Errorf("origin: %s: %s: %w", op, http.StatusText(code), ErrNotFound)
	}
	return fmt.Errorf("origin: %s: status %d: %w", op, code, ErrUnavailable)
}

// timeoutError marks a timed-out request; it matches
// context.DeadlineExceeded and os.ErrDeadlineExceeded.
type timeoutError struct{ err error }

func (e *timeoutError) Error() string   { return e.err.Error() }
func (e *timeoutError) Unwrap() error   { return e.err }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }
func (e *timeoutError) Is(target error) bool {
	return target == context.DeadlineExceeded || target == os.ErrDeadlineExceeded
}

// wrapNetErr wraps a transport error in ErrUnavailable, marking timeouts.
func wrapNetErr(op string, err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		err = &timeoutError{err}
	}
	return fmt.Errorf("origin: %s: %w: %w", op, ErrUnavailable, err)
}
