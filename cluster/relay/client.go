package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/classmesh/classmesh/internal/frame"
)

const (
	// relayReorderWait bounds how long a group stream waits for the
	// headers of the streams the server used before it.
	relayReorderWait = 100 * time.Millisecond
	// relayEndWait bounds how long the end of a track waits for the
	// group streams still in flight.
	relayEndWait = 5 * time.Second
	// relayMaxActive bounds the group streams being read at once; beyond
	// it used streams are replaced only as others end, so an upstream
	// cannot make this node open streams without limit.
	relayMaxActive = 4
)

// relayUpstream is this node's subscription to one track on another node:
// a control stream plus parked group streams whose contents feed h.
type relayUpstream struct {
	r      *Relay
	h      *relayHub
	from   string
	token  uint64
	ctrl   *quic.Stream
	ctx    context.Context // ends when the subscription is closed
	cancel context.CancelFunc

	mu      sync.Mutex
	started uint64 // group streams whose header arrived
	active  int    // group streams being read
	owed    int    // parked streams to open when active streams end
	nextSeq uint64 // next group stream expected in order
	changed chan struct{}
}

// dialRelayUpstream subscribes to h's track through from.
func dialRelayUpstream(ctx context.Context, r *Relay, h *relayHub, from string, path []string) (*relayUpstream, error) {
	token := newToken()
	req, err := relayRequest{Kind: relaySubscribe, Token: token, Track: h.track, Path: path}.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRelayRefused, err)
	}
	st, err := r.t.OpenStream(ctx, from, RelayALPN)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrRelayUpstream, from, err)
	}
	stop := context.AfterFunc(ctx, func() {
		st.CancelRead(codeRelayCanceled)
		st.CancelWrite(codeRelayCanceled)
	})
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = st.SetDeadline(dl)
	}
	c, err := relayHandshake(st, req)
	_ = st.SetDeadline(time.Time{})
	switch {
	case err != nil && ctx.Err() != nil:
		err = fmt.Errorf("%w: %s: %w", ErrRelayUpstream, from, ctx.Err())
	case err != nil:
		err = fmt.Errorf("%w: %s: %w", ErrRelayUpstream, from, err)
	case c.Kind != relayReply:
		err = fmt.Errorf("%w: %s: %w: unexpected control frame", ErrRelayUpstream, from, frame.ErrMalformed)
	case c.Code != relayOK:
		err = relayCodeErr(c.Code, c.Message)
	}
	if err != nil || !stop() {
		st.CancelRead(codeRelayCanceled)
		st.CancelWrite(codeRelayCanceled)
		if err == nil {
			err = fmt.Errorf("%w: %s: %w", ErrRelayUpstream, from, ctx.Err())
		}
		return nil, err
	}
	u := &relayUpstream{r: r, h: h, from: from, token: token, ctrl: st, changed: make(chan struct{})}
	u.ctx, u.cancel = context.WithCancel(r.ctx)
	context.AfterFunc(u.ctx, func() {
		st.CancelRead(codeRelayCanceled)
		st.CancelWrite(codeRelayCanceled)
	})
	return u, nil
}

func relayHandshake(st *quic.Stream, req []byte) (relayControl, error) {
	if _, err := st.Write(req); err != nil {
		return relayControl{}, err
	}
	return decodeRelayControl(st)
}

// relayCodeErr maps a refusal or end code to the error subscribers see.
func relayCodeErr(code relayCode, msg string) error {
	var base error
	switch code {
	case relayNotFound:
		base = ErrTrackNotFound
	case relayEnded:
		return ErrTrackEnded
	case relayBadRequest:
		base = ErrRelayRefused
	default:
		base = ErrRelayUpstream
	}
	if msg == "" {
		return base
	}
	return fmt.Errorf("%w: %s", base, msg)
}

// start runs the control reader and parks the first group streams.
func (u *relayUpstream) start() {
	u.r.m.upstreamOpened.Inc()
	if !u.r.goTracked(u.readControl) {
		u.close()
		return
	}
	for range relayParkedStreams {
		u.park()
	}
}

// close cancels the subscription; it is idempotent.
func (u *relayUpstream) close() { u.cancel() }

// readControl waits for the end of the track or the loss of the control
// stream, then ends the hub.
func (u *relayUpstream) readControl() {
	u.r.m.upstreams.Inc()
	defer u.r.m.upstreams.Dec()
	defer u.cancel()
	c, err := decodeRelayControl(u.ctrl)
	var end error
	switch {
	case err != nil && u.ctx.Err() != nil:
		end = ErrClosed
	case err != nil:
		end = fmt.Errorf("%w: %s: %w", ErrRelayUpstream, u.from, err)
		u.r.log.Warn("relay: upstream lost", "track", u.h.track, "from", u.from, "err", err)
	case c.Kind != relayEnd:
		end = fmt.Errorf("%w: %s: %w: unexpected control frame", ErrRelayUpstream, u.from, frame.ErrMalformed)
	default:
		u.waitStreams(c.Streams)
		end = relayCodeErr(c.Code, c.Message)
	}
	u.h.end(end)
	u.r.upstreamEnded(u.h)
}

// waitStreams waits, boundedly, until n group streams were read to their
// end.
func (u *relayUpstream) waitStreams(n uint64) {
	u.waitUntil(relayEndWait, func() bool { return u.started >= n && u.active == 0 })
}

func (u *relayUpstream) signalLocked() {
	close(u.changed)
	u.changed = make(chan struct{})
}

// park opens one group stream for the server to use.
func (u *relayUpstream) park() {
	if u.ctx.Err() == nil {
		u.r.goTracked(u.readGroup)
	}
}

// readGroup attaches a stream, waits for the server to use it, parks a
// replacement and feeds the group's records into the hub.
func (u *relayUpstream) readGroup() {
	st, err := u.r.t.OpenStream(u.ctx, u.from, RelayALPN)
	if err != nil {
		return // the control stream notices a lost connection
	}
	stop := context.AfterFunc(u.ctx, func() {
		st.CancelRead(codeRelayCanceled)
		st.CancelWrite(codeRelayCanceled)
	})
	defer stop()
	req, _ := relayRequest{Kind: relayAttach, Token: u.token}.MarshalBinary()
	if _, err := st.Write(req); err != nil {
		return
	}
	_ = st.Close()
	seq, gid, err := decodeRelayGroupHeader(st)
	if err != nil {
		st.CancelRead(codeRelayCanceled) // EOF: released unused
		return
	}
	u.r.m.bytes.WithLabelValues("received").Add(relayGroupHdrLen)
	u.mu.Lock()
	u.started++
	u.active++
	replace := u.active <= relayMaxActive
	if !replace {
		u.owed++
	}
	u.mu.Unlock()
	if replace {
		u.park()
	}
	defer u.finished()
	u.awaitTurn(seq)
	g, reason := u.h.openGroup(gid)
	u.applied(seq)
	if g == nil {
		u.r.dropped(u.h.track, reason)
		st.CancelRead(codeRelayCanceled)
		return
	}
	defer u.h.closeGroup(g)
	u.readRecords(st, g)
}

// readRecords feeds records into g until the stream ends.
func (u *relayUpstream) readRecords(st *quic.Stream, g *relayGroup) {
	for {
		rec, err := readRelayRecord(st, u.r.cfg.MaxPayload)
		if err != nil {
			if errors.Is(err, frame.ErrMalformed) {
				u.r.log.Warn("relay: bad group stream", "track", u.h.track, "from", u.from, "err", err)
			}
			if !errors.Is(err, io.EOF) {
				st.CancelRead(codeRelayCanceled)
			}
			return
		}
		now := u.r.now()
		var reason string
		if rec.Type == relayRecInit {
			u.r.m.bytes.WithLabelValues("received").Add(float64(relayRecPrefixLen + len(rec.Payload)))
			reason = u.h.groupInit(g, rec.Payload, now)
		} else {
			u.r.m.bytes.WithLabelValues("received").Add(float64(relayRecPrefixLen + relayObjFixedLen +
				len(rec.Header) + len(rec.Payload)))
			reason = u.h.groupObject(g, Object{ID: rec.ID, Header: rec.Header, Payload: rec.Payload,
				Created: rec.Created}, now)
		}
		if reason != "" {
			u.r.dropped(u.h.track, reason)
			if reason == "ended" || reason == "evicted" {
				st.CancelRead(codeRelayCanceled)
				return
			}
		}
	}
}

// awaitTurn waits, boundedly, until the streams used before seq had their
// groups opened, so groups enter the hub in the order they were sent.
func (u *relayUpstream) awaitTurn(seq uint64) {
	u.waitUntil(relayReorderWait, func() bool { return seq <= u.nextSeq })
}

// waitUntil waits until cond (evaluated under u.mu) holds, for at most
// limit or until the upstream ends; u.changed is signalled on every change.
func (u *relayUpstream) waitUntil(limit time.Duration, cond func() bool) {
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		u.mu.Lock()
		ok, ch := cond(), u.changed
		u.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-t.C:
			return
		case <-u.ctx.Done():
			return
		}
	}
}

func (u *relayUpstream) applied(seq uint64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.nextSeq = max(u.nextSeq, seq+1)
	u.signalLocked()
}

func (u *relayUpstream) finished() {
	u.mu.Lock()
	u.active--
	owed := u.owed > 0
	if owed {
		u.owed--
	}
	u.signalLocked()
	u.mu.Unlock()
	if owed {
		u.park()
	}
}
