package rtmp

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied to zero Config fields.
const (
	DefaultAddr              = ":1935"
	DefaultApp               = "live"
	DefaultChunkSize         = 4096
	DefaultMaxChunkSize      = maxMessageLen
	DefaultMaxMessageSize    = 8 << 20
	DefaultMaxChunkStreams   = 64
	DefaultMaxConnections    = 1024
	DefaultWindowAckSize     = 2500000
	DefaultHandshakeTimeout  = 10 * time.Second
	DefaultIdleTimeout       = 30 * time.Second
	DefaultPublishTimeout    = 15 * time.Second
	DefaultMaxPendingPerAddr = 8
)

// maxMessageLen is the largest length a message header can carry (24 bits).
const maxMessageLen = 0xFFFFFF

// Sentinel errors. Errors returned by the package wrap one of these.
var (
	// ErrUnknownKey is returned (wrapped) by a Publisher for a stream key
	// it does not know; the client is told NetStream.Publish.BadName.
	ErrUnknownKey = errors.New("rtmp: unknown stream key")
	// ErrAlreadyPublishing is returned (wrapped) by a Publisher when the
	// key is already being published; the client is told
	// NetStream.Publish.Denied.
	ErrAlreadyPublishing = errors.New("rtmp: stream key already publishing")
	// ErrInvalidConfig wraps every Validate failure.
	ErrInvalidConfig = errors.New("rtmp: invalid config")
	// ErrServerClosed is returned by Start after Close and passed to
	// Stream.Close for publishers cut off by Close.
	ErrServerClosed = errors.New("rtmp: server closed")
	// ErrProtocol wraps every violation of the RTMP, AMF0 or FLV
	// specifications by the peer.
	ErrProtocol = errors.New("rtmp: protocol error")
	// ErrLimit wraps every input that exceeds a configured limit.
	ErrLimit = errors.New("rtmp: limit exceeded")
	// ErrUnsupported wraps every valid input the server does not handle
	// (codecs other than H.264 and AAC, play requests, RTMPE).
	ErrUnsupported = errors.New("rtmp: unsupported")
)

// Config configures a Server. The zero value is valid and means the
// defaults above.
type Config struct {
	// Addr is the TCP address to listen on. "" means DefaultAddr (":1935").
	Addr string
	// App is the only application name accepted in connect
	// (rtmp://HOST/{App}/{key}). "" means DefaultApp ("live").
	App string
	// ChunkSize is the chunk size the server announces and writes with.
	// 0 means DefaultChunkSize (4096); valid values are 128 to 65536.
	ChunkSize int
	// MaxChunkSize is the largest chunk size a client may set; a larger
	// Set Chunk Size closes the connection. Sizes above 0xFFFFFF are the
	// same as 0xFFFFFF (no message is longer). 0 means DefaultMaxChunkSize
	// (0xFFFFFF).
	MaxChunkSize int
	// MaxMessageSize bounds one message (a video frame); a longer message
	// header closes the connection. At most a connection buffers twice
	// this across all its chunk streams. 0 means DefaultMaxMessageSize
	// (8 MiB); at most 0xFFFFFF.
	MaxMessageSize int
	// MaxChunkStreams bounds the distinct chunk stream ids one connection
	// may use. 0 means DefaultMaxChunkStreams (64).
	MaxChunkStreams int
	// MaxConnections bounds concurrent connections. When it is reached, a
	// new connection takes the place of the oldest one that is not
	// publishing yet; with none of those it is closed right after accept.
	// 0 means DefaultMaxConnections (1024).
	MaxConnections int
	// MaxPendingPerAddr bounds the connections from one IPv4 address or
	// IPv6 /64 that are not publishing yet; more are closed right after
	// accept. Publishing connections do not count, so a lecture-capture
	// fleet behind one NAT is not limited. 0 means
	// DefaultMaxPendingPerAddr (8); negative means no cap.
	MaxPendingPerAddr int
	// WindowAckSize is the acknowledgement window announced to clients.
	// 0 means DefaultWindowAckSize (2500000).
	WindowAckSize int
	// HandshakeTimeout bounds the handshake. 0 means
	// DefaultHandshakeTimeout (10 s).
	HandshakeTimeout time.Duration
	// PublishTimeout bounds the time from accept until a publish command
	// is accepted (handshake, connect, createStream, publish); a
	// connection that has not published by then is closed, however many
	// bytes it trickles. ffmpeg and OBS need well under a second. 0 means
	// DefaultPublishTimeout (15 s).
	PublishTimeout time.Duration
	// IdleTimeout closes a publishing connection that sends nothing, or
	// does not take our replies, for this long. 0 means
	// DefaultIdleTimeout (30 s).
	IdleTimeout time.Duration
	// Logger receives one line per closed connection and per publish.
	// nil discards.
	Logger *slog.Logger
	// Registerer registers the server's metrics (classmesh_rtmp_*). nil
	// means a private registry (the metrics exist but are not exported).
	Registerer prometheus.Registerer
}

// DefaultConfig returns a Config with every default spelled out.
func DefaultConfig() Config {
	return Config{
		Addr:              DefaultAddr,
		App:               DefaultApp,
		ChunkSize:         DefaultChunkSize,
		MaxChunkSize:      DefaultMaxChunkSize,
		MaxMessageSize:    DefaultMaxMessageSize,
		MaxChunkStreams:   DefaultMaxChunkStreams,
		MaxConnections:    DefaultMaxConnections,
		WindowAckSize:     DefaultWindowAckSize,
		HandshakeTimeout:  DefaultHandshakeTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		PublishTimeout:    DefaultPublishTimeout,
		MaxPendingPerAddr: DefaultMaxPendingPerAddr,
	}
}

// Validate reports whether c is usable. Zero fields are valid.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	switch {
	case c.ChunkSize != 0 && (c.ChunkSize < 128 || c.ChunkSize > 65536):
		return bad("ChunkSize %d outside 128..65536", c.ChunkSize)
	case c.MaxChunkSize < 0 || (c.MaxChunkSize > 0 && c.MaxChunkSize < 128):
		return bad("MaxChunkSize %d below 128", c.MaxChunkSize)
	case c.MaxMessageSize < 0 || c.MaxMessageSize > maxMessageLen:
		return bad("MaxMessageSize %d outside 0..%d", c.MaxMessageSize, maxMessageLen)
	case c.MaxChunkStreams < 0:
		return bad("MaxChunkStreams %d is negative", c.MaxChunkStreams)
	case c.MaxConnections < 0:
		return bad("MaxConnections %d is negative", c.MaxConnections)
	case c.WindowAckSize < 0:
		return bad("WindowAckSize %d is negative", c.WindowAckSize)
	case c.HandshakeTimeout < 0 || c.IdleTimeout < 0 || c.PublishTimeout < 0:
		return bad("timeouts must not be negative")
	case strings.ContainsAny(c.App, "/?"):
		return bad("App %q contains '/' or '?'", c.App)
	}
	return nil
}

// withDefaults returns c with zero fields replaced by their defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.Addr = cmp.Or(c.Addr, d.Addr)
	c.App = cmp.Or(c.App, d.App)
	c.ChunkSize = cmp.Or(c.ChunkSize, d.ChunkSize)
	c.MaxChunkSize = cmp.Or(c.MaxChunkSize, d.MaxChunkSize)
	c.MaxMessageSize = cmp.Or(c.MaxMessageSize, d.MaxMessageSize)
	c.MaxChunkStreams = cmp.Or(c.MaxChunkStreams, d.MaxChunkStreams)
	c.MaxConnections = cmp.Or(c.MaxConnections, d.MaxConnections)
	c.WindowAckSize = cmp.Or(c.WindowAckSize, d.WindowAckSize)
	c.HandshakeTimeout = cmp.Or(c.HandshakeTimeout, d.HandshakeTimeout)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, d.IdleTimeout)
	c.PublishTimeout = cmp.Or(c.PublishTimeout, d.PublishTimeout)
	c.MaxPendingPerAddr = cmp.Or(c.MaxPendingPerAddr, d.MaxPendingPerAddr) // negative: no cap
	if c.MaxChunkSize > maxMessageLen {
		c.MaxChunkSize = maxMessageLen
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
