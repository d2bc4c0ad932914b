package rtmp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// lingerTimeout bounds how long a refused client is given to read our
// answer before the connection is closed.
const lingerTimeout = 2 * time.Second

// conn is one client connection. Everything but nc.Close (from
// Server.Close) happens on the goroutine running run.
type conn struct {
	s      *Server
	nc     net.Conn
	log    *slog.Logger
	ctx    context.Context // for Publisher.Publish; ends with the connection
	cancel context.CancelFunc
	in     *connReader
	cr     *chunkReader
	cw     *chunkWriter

	connected bool
	app       string
	created   uint32 // message streams created: ids 1..created
	pub       publishState
	ackWindow uint32
	lastAck   uint64
	linger    bool // the client was told why; let it read that before closing

	// Set by Server.admit; pending is guarded by Server.mu.
	key      netip.Prefix
	accepted time.Time
	pending  bool        // no publish accepted yet
	evicted  atomic.Bool // closed to make room for a newer connection
}

// publishState is the state of the current publish, if any.
type publishState struct {
	stream     Stream
	streamID   uint32
	key        string
	lengthSize int // NAL unit length size; 0 until an AVC sequence header
	haveASC    bool
	videoTS    tsExtender
	audioTS    tsExtender
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(s.ctx)
	in := &connReader{nc: nc, timeout: s.cfg.IdleTimeout, bytes: s.m.bytes}
	return &conn{
		s:         s,
		nc:        nc,
		log:       s.log.With("remote", nc.RemoteAddr().String()),
		ctx:       ctx,
		cancel:    cancel,
		in:        in,
		cr:        newChunkReader(bufio.NewReaderSize(in, 64<<10), s.readerLimits()),
		cw:        newChunkWriter(bufio.NewWriterSize(nc, 16<<10)),
		ackWindow: DefaultWindowAckSize,
		accepted:  time.Now(),
	}
}

func (s *Server) readerLimits() readerLimits {
	return readerLimits{maxChunk: s.cfg.MaxChunkSize, maxMsg: s.cfg.MaxMessageSize, maxStreams: s.cfg.MaxChunkStreams}
}

// run serves the connection and cleans up after it.
func (c *conn) run() {
	defer c.cancel()
	err := c.serve()
	if err != nil && !errors.Is(err, io.EOF) && c.s.ctx.Err() != nil {
		err = ErrServerClosed
	}
	reason := closeReason(err)
	if c.evicted.Load() {
		reason, err = reasonEvicted, fmt.Errorf("rtmp: closed to make room for a new connection (server full, not publishing after %v)", time.Since(c.accepted).Round(time.Millisecond))
	}
	if reason == reasonClean {
		err = nil
	}
	c.endPublish(err)
	if c.linger {
		c.lingerClose()
	}
	c.nc.Close()
	c.s.m.closed.WithLabelValues(reason).Inc()
	attrs := []any{"reason", reason}
	if c.app != "" {
		attrs = append(attrs, "app", c.app)
	}
	switch {
	case err == nil && c.app == "": // port checks and the like
		c.log.Debug("rtmp: connection closed", attrs...)
		return
	case err == nil:
		c.log.Info("rtmp: connection closed", attrs...)
		return
	}
	c.log.Warn("rtmp: connection closed", append(attrs, "err", err.Error())...)
}

// serve runs the handshake and the message loop until an error; io.EOF
// means the client closed between messages.
//
// Until a publish is accepted, every read has the fixed deadline
// accepted+PublishTimeout (the handshake, accepted+HandshakeTimeout, if
// earlier): bytes trickled slowly enough to dodge IdleTimeout buy nothing.
// From the publish on, each read may wait IdleTimeout.
func (c *conn) serve() error {
	publishBy := c.accepted.Add(c.s.cfg.PublishTimeout)
	hsDeadline := c.accepted.Add(c.s.cfg.HandshakeTimeout)
	if publishBy.Before(hsDeadline) {
		hsDeadline = publishBy
	}
	c.in.deadline = hsDeadline
	c.nc.SetWriteDeadline(hsDeadline)
	rw := struct {
		io.Reader
		io.Writer
	}{c.cr.r, c.nc}
	if err := serverHandshake(rw, uint32(time.Since(c.s.epoch).Milliseconds())); err != nil {
		if errors.Is(err, io.EOF) && c.in.n == 0 {
			return io.EOF // a port check: connected and left
		}
		return fail(reasonHandshake, err)
	}
	c.in.deadline = publishBy
	for {
		m, err := c.cr.readMessage()
		if err != nil {
			if !c.in.deadline.IsZero() && closeReason(err) == reasonTimeout {
				return fail(reasonPublishTimeout, fmt.Errorf("rtmp: no publish within %v of connecting: %w", c.s.cfg.PublishTimeout, err))
			}
			return err
		}
		if err := c.handle(m); err != nil {
			return err
		}
		if err := c.maybeAck(); err != nil {
			return err
		}
	}
}

// handle dispatches one message.
func (c *conn) handle(m message) error {
	switch m.typ {
	case typeCommandAMF0:
		return c.command(m, m.payload)
	case typeCommandAMF3, typeDataAMF3:
		if len(m.payload) == 0 {
			return fmt.Errorf("%w: empty AMF3 message", ErrProtocol)
		}
		if m.typ == typeCommandAMF3 {
			return c.command(m, m.payload[1:])
		}
		return c.data(m.payload[1:])
	case typeDataAMF0:
		return c.data(m.payload)
	case typeVideo:
		return c.video(m)
	case typeAudio:
		return c.audio(m)
	case typeAggregate:
		return c.aggregate(m)
	case typeWindowAckSize:
		if len(m.payload) < 4 {
			return fmt.Errorf("%w: short Window Acknowledgement Size", ErrProtocol)
		}
		c.ackWindow = u32(m.payload)
	case typeUserControl:
		return c.userControl(m.payload)
	default: // Acknowledgement, Set Peer Bandwidth, shared objects
		c.log.Debug("rtmp: ignoring message", "type", m.typ, "len", len(m.payload))
	}
	return nil
}

// maybeAck sends an Acknowledgement when the client's window is crossed.
func (c *conn) maybeAck() error {
	if c.ackWindow == 0 || c.in.n-c.lastAck < uint64(c.ackWindow) {
		return nil
	}
	c.lastAck = c.in.n
	var p [4]byte
	putU32(p[:], uint32(c.in.n))
	if err := c.sendControl(typeAck, p[:]); err != nil {
		return err
	}
	return c.flush()
}

// userControl answers pings; other events are ignored.
func (c *conn) userControl(p []byte) error {
	if len(p) < 2 {
		return fmt.Errorf("%w: short User Control message", ErrProtocol)
	}
	const pingRequest, pingResponse = 6, 7
	if event := int(p[0])<<8 | int(p[1]); event != pingRequest {
		return nil
	}
	if len(p) < 6 {
		return fmt.Errorf("%w: short PingRequest", ErrProtocol)
	}
	if err := c.sendControl(typeUserControl, []byte{0, pingResponse, p[2], p[3], p[4], p[5]}); err != nil {
		return err
	}
	return c.flush()
}

// lingerClose half-closes and drains for a moment so that the client reads
// our last message instead of a reset.
func (c *conn) lingerClose() {
	if tc, ok := c.nc.(interface{ CloseWrite() error }); ok {
		tc.CloseWrite()
	}
	c.in.deadline = time.Now().Add(lingerTimeout)
	io.Copy(io.Discard, io.LimitReader(c.in, 1<<20))
}

// connReader counts the bytes read from the connection and keeps the read
// deadline IdleTimeout ahead of every read (or at a fixed deadline).
type connReader struct {
	nc       net.Conn
	timeout  time.Duration
	deadline time.Time // when set, used instead of now+timeout
	n        uint64
	bytes    prometheus.Counter
}

func (r *connReader) Read(p []byte) (int, error) {
	d := r.deadline
	if d.IsZero() {
		d = time.Now().Add(r.timeout)
	}
	if err := r.nc.SetReadDeadline(d); err != nil {
		return 0, err
	}
	n, err := r.nc.Read(p)
	r.n += uint64(n)
	r.bytes.Add(float64(n))
	return n, err
}

// connError labels an error with a close reason.
type connError struct {
	reason string
	err    error
}

func (e *connError) Error() string { return e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

func fail(reason string, err error) error { return &connError{reason: reason, err: err} }

// closeReason classifies the error that ended a connection.
func closeReason(err error) string {
	var ce *connError
	var ne net.Error
	switch {
	case errors.As(err, &ce):
		return ce.reason
	case err == nil, errors.Is(err, io.EOF):
		return reasonClean
	case errors.Is(err, ErrServerClosed):
		return reasonServerClosed
	case errors.Is(err, ErrLimit):
		return reasonLimit
	case errors.Is(err, ErrUnsupported):
		return reasonUnsupported
	case errors.Is(err, ErrProtocol):
		return reasonProtocol
	case errors.As(err, &ne) && ne.Timeout():
		return reasonTimeout
	}
	return reasonNetwork
}
