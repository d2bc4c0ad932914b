package relay

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/classmesh/classmesh/cluster/transport"
	"github.com/classmesh/classmesh/internal/drain"
	"github.com/classmesh/classmesh/internal/frame"
)

const (
	relayRequestTimeout = 5 * time.Second // reading the first frame of a stream
	relayControlTimeout = 5 * time.Second // writing a control frame
	relayParkedStreams  = 2               // group streams a subscriber keeps parked
	relayPoolSize       = 4               // parked streams a serving accepts
)

type relayServingKey struct {
	peer  string
	token uint64
}

// relayParked is a group stream attached by the subscriber; its handler
// waits on done so the transport does not close it under the sender.
type relayParked struct {
	st   *quic.Stream
	done chan struct{}
	once sync.Once
}

func (p *relayParked) release() { p.once.Do(func() { close(p.done) }) }

// relayServing sends one track to one remote subscriber: one goroutine
// (the control stream's handler) walks a cursor and writes each group on
// its own parked stream.
type relayServing struct {
	r    *Relay
	h    *relayHub
	ctrl *quic.Stream
	ctx  context.Context
	pool chan *relayParked
	done chan struct{} // closed when the serving ends

	c       relayCursor // guarded by h.mu
	seq     uint64      // group streams used
	cur     *relayParked
	curG    *relayGroup
	curInit *relayInit
	buf     []byte
}

// handle is the RelayALPN stream handler.
func (r *Relay) handle(ctx context.Context, peer transport.PeerInfo, st *quic.Stream) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		st.CancelRead(codeRelayRefused)
		st.CancelWrite(codeRelayRefused)
		return
	}
	r.wg.Add(1)
	r.mu.Unlock()
	defer r.wg.Done()
	_ = st.SetReadDeadline(time.Now().Add(relayRequestTimeout))
	req, err := decodeRelayRequest(st)
	_ = st.SetReadDeadline(time.Time{})
	if err != nil {
		r.log.Debug("relay: bad request", "peer", peer.NodeID, "err", err)
		writeRelayControl(st, relayControl{Kind: relayReply, Code: relayBadRequest, Message: frame.TruncMsg(err.Error())})
		st.CancelRead(codeRelayRefused)
		return
	}
	switch req.Kind {
	case relaySubscribe:
		r.serveSubscribe(ctx, peer, st, req)
	case relayAttach:
		r.serveAttach(peer, st, req)
	}
}

// serveSubscribe answers a subscribe request and, on success, sends the
// track until it ends or the subscriber leaves.
func (r *Relay) serveSubscribe(ctx context.Context, peer transport.PeerInfo, st *quic.Stream, req relayRequest) {
	refuse := func(code relayCode, msg string) {
		writeRelayControl(st, relayControl{Kind: relayReply, Code: code, Message: frame.TruncMsg(msg)})
		st.CancelRead(codeRelayRefused)
	}
	switch {
	case slices.Contains(req.Path, r.self):
		refuse(relayBadRequest, "relay loop through "+r.self)
		return
	case len(req.Path) >= relayMaxPath:
		refuse(relayBadRequest, "too many relay hops")
		return
	}
	from := ""
	if !r.hasTrack(req.Track) {
		from = r.resolve(req.Track)
	}
	h, err := r.acquire(ctx, from, req.Track, append(slices.Clone(req.Path), r.self))
	if err != nil {
		refuse(relayCodeFor(err), err.Error())
		return
	}
	defer r.release(h)
	sctx, cancel := drain.Merge(ctx, r.ctx, st.Context())
	defer cancel()
	sv := &relayServing{
		r: r, h: h, ctrl: st, ctx: sctx,
		pool: make(chan *relayParked, relayPoolSize),
		done: make(chan struct{}),
		c:    newRelayCursor(h, r.cfg.DeliveryTimeout, r.now()),
	}
	key := relayServingKey{peer: peer.NodeID, token: req.Token}
	if !r.addServing(key, sv) {
		refuse(relayBadRequest, "duplicate subscription token")
		return
	}
	defer r.removeServing(key, sv)
	defer close(sv.done)
	if err := writeRelayControl(st, relayControl{Kind: relayReply, Code: relayOK}); err != nil {
		st.CancelRead(codeRelayCanceled)
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { // the subscriber leaves by closing or resetting its side
		var b [1]byte
		_, _ = st.Read(b[:])
		cancel()
	})
	err = sv.run()
	gone := sctx.Err() != nil // the subscriber left or the relay closes
	st.CancelRead(codeRelayCanceled)
	wg.Wait()
	if !gone {
		writeRelayControl(st, relayControl{Kind: relayEnd, Code: relayCodeFor(err), Streams: sv.seq})
		_ = st.Close()
	} else {
		st.CancelWrite(codeRelayCanceled)
	}
}

// serveAttach parks a group stream for the subscription it names and
// holds it until the sender is done with it.
func (r *Relay) serveAttach(peer transport.PeerInfo, st *quic.Stream, req relayRequest) {
	r.mu.Lock()
	sv := r.servings[relayServingKey{peer: peer.NodeID, token: req.Token}]
	r.mu.Unlock()
	if sv == nil {
		st.CancelWrite(codeRelayRefused)
		return
	}
	p := &relayParked{st: st, done: make(chan struct{})}
	select {
	case sv.pool <- p:
	default:
		st.CancelWrite(codeRelayRefused)
		return
	}
	select {
	case <-p.done:
	case <-sv.done:
	}
}

func (r *Relay) hasTrack(track string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pubs[track] != nil || r.ups[track] != nil
}

func (r *Relay) addServing(k relayServingKey, sv *relayServing) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.servings[k] != nil {
		return false
	}
	r.servings[k] = sv
	return true
}

func (r *Relay) removeServing(k relayServingKey, sv *relayServing) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.servings[k] == sv {
		delete(r.servings, k)
	}
}

// run sends until the track ends (its error is returned) or ctx ends.
func (sv *relayServing) run() error {
	for {
		st := sv.step()
		if st.left != nil && st.left == sv.curG {
			sv.finish(st.reason)
		}
		if st.err != nil {
			if sv.ctx.Err() != nil {
				sv.finish(leaveReset)
			} else {
				sv.finish(leaveComplete)
			}
			return st.err
		}
		if !st.ok {
			continue
		}
		if err := sv.send(st); err != nil {
			sv.finish(leaveReset)
			return err
		}
	}
}

// step waits for the cursor's next step.
func (sv *relayServing) step() relayStep {
	for {
		sv.h.mu.Lock()
		st := sv.c.next(sv.r.now())
		sv.h.mu.Unlock()
		if st.ok || st.err != nil || st.left != nil {
			return st
		}
		select {
		case <-st.wait:
		case <-sv.ctx.Done():
			return relayStep{err: sv.ctx.Err()}
		}
	}
}

// send writes one entry, opening the group's stream on its first one.
// Stream failures cancel the group; only ctx's end is returned.
func (sv *relayServing) send(st relayStep) error {
	e := st.entry
	since := e.at
	if sv.c.joined.After(since) {
		since = sv.c.joined
	}
	deadline := time.Now().Add(sv.r.cfg.DeliveryTimeout - sv.r.now().Sub(since))
	if st.first {
		sv.finish(leaveComplete) // defensive: the cursor reports every group it leaves
		if err := sv.open(st.group, deadline); err != nil {
			return err
		}
	}
	if sv.cur == nil || sv.curG != st.group {
		return nil // the group was cancelled
	}
	rec := relayRecord{Type: relayRecObject, ID: e.obj.ID, Created: e.obj.Created,
		Header: e.obj.Header, Payload: e.obj.Payload}
	if e.init != nil {
		if e.init == sv.curInit {
			return nil
		}
		rec, sv.curInit = relayRecord{Type: relayRecInit, Payload: e.init.b}, e.init
	}
	sv.buf = appendRelayRecordPrefix(sv.buf[:0], &rec)
	if err := sv.write(deadline, sv.buf, rec.Payload); err != nil {
		return sv.failed(err)
	}
	if e.init == nil && !e.obj.Created.IsZero() {
		sv.r.m.age.WithLabelValues("remote").Observe(sv.r.now().Sub(e.obj.Created).Seconds())
	}
	return nil
}

// open takes a parked stream for g and writes the group header and init.
func (sv *relayServing) open(g *relayGroup, deadline time.Time) error {
	p, err := sv.take(deadline)
	if err != nil {
		if sv.ctx.Err() != nil {
			return err
		}
		sv.abandon(leaveTimeout)
		return nil
	}
	sv.cur, sv.curG, sv.curInit = p, g, g.init
	sv.buf = appendRelayGroupHeader(sv.buf[:0], sv.seq, g.id)
	sv.seq++
	var init []byte
	if g.init != nil {
		rec := relayRecord{Type: relayRecInit, Payload: g.init.b}
		sv.buf = appendRelayRecordPrefix(sv.buf, &rec)
		init = g.init.b
	}
	if err := sv.write(deadline, sv.buf, init); err != nil {
		return sv.failed(err)
	}
	return nil
}

// take waits for a parked stream until deadline.
func (sv *relayServing) take(deadline time.Time) (*relayParked, error) {
	select {
	case p := <-sv.pool:
		return p, nil
	default:
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case p := <-sv.pool:
		return p, nil
	case <-t.C:
		return nil, os.ErrDeadlineExceeded
	case <-sv.ctx.Done():
		return nil, sv.ctx.Err()
	}
}

// write sends parts on the current stream before deadline.
func (sv *relayServing) write(deadline time.Time, parts ...[]byte) error {
	st := sv.cur.st
	_ = st.SetWriteDeadline(deadline)
	for _, b := range parts {
		if len(b) == 0 {
			continue
		}
		n, err := st.Write(b)
		sv.r.m.bytes.WithLabelValues("sent").Add(float64(n))
		if err != nil {
			return err
		}
	}
	return nil
}

// failed handles a write error: the group is cancelled for this
// subscriber unless the subscription itself is over.
func (sv *relayServing) failed(err error) error {
	if sv.ctx.Err() != nil {
		return sv.ctx.Err()
	}
	reason := leaveReset
	if errors.Is(err, os.ErrDeadlineExceeded) {
		reason = leaveTimeout
	}
	sv.finish(reason)
	sv.abandon(reason)
	return nil
}

// abandon makes the cursor leave the current group.
func (sv *relayServing) abandon(reason string) {
	sv.h.mu.Lock()
	sv.c.abandon(reason)
	sv.h.mu.Unlock()
}

// finish ends the current group stream: FIN when complete, else reset
// with the reason's code.
func (sv *relayServing) finish(reason string) {
	p := sv.cur
	if p == nil {
		return
	}
	sv.cur, sv.curG, sv.curInit = nil, nil, nil
	if reason == leaveComplete {
		_ = p.st.Close()
	} else {
		p.st.CancelWrite(relayResetCode(reason))
	}
	p.release()
}

func relayResetCode(reason string) quic.StreamErrorCode {
	switch reason {
	case leaveTimeout:
		return codeRelayTimeout
	case leaveSuperseded:
		return codeRelaySuperseded
	case leaveEvicted:
		return codeRelayEvicted
	}
	return codeRelayCanceled
}

// relayCodeFor maps an error to the code sent to a subscriber.
func relayCodeFor(err error) relayCode {
	switch {
	case errors.Is(err, ErrTrackNotFound):
		return relayNotFound
	case errors.Is(err, ErrTrackEnded):
		return relayEnded
	case errors.Is(err, ErrRelayRefused):
		return relayBadRequest
	case errors.Is(err, ErrClosed):
		return relayGoingAway
	}
	return relayUpstreamLost
}

// writeRelayControl writes one control frame; errors are the stream's.
func writeRelayControl(st *quic.Stream, c relayControl) error {
	b, err := c.MarshalBinary()
	if err != nil {
		return err
	}
	_ = st.SetWriteDeadline(time.Now().Add(relayControlTimeout))
	_, err = st.Write(b)
	return err
}
