package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
)

// ForwardALPN is the ALPN of the QUIC connections on which followers forward
// writes and read-index requests to the raft leader.
const ForwardALPN = "classmesh-control/1"

// Forwarding errors. A catalog error of the leader comes back as the same
// *Error (code, message, field, revision); a leader that lost leadership
// comes back as ErrNotLeader.
var (
	// ErrForwardProtocol reports a malformed forwarding frame, sent or
	// received, or a request the peer rejected as malformed.
	ErrForwardProtocol = errors.New("control: forward: protocol error")
	// ErrForwardFailed reports a forwarded request that failed on the
	// leader for a reason other than a catalog error (timeout, raft).
	ErrForwardFailed = errors.New("control: forward: failed on the leader")
)

// Timing of forwarding.
const (
	// forwardRetryWait is the pause before the single retry after the
	// leader changed.
	forwardRetryWait = 150 * time.Millisecond
	// forwardMaxTimeout bounds a forwarded request on the leader; a request
	// without a deadline gets this much.
	forwardMaxTimeout = 30 * time.Second
	// forwardIOTimeout bounds reading a request and writing a response on
	// the serving side.
	forwardIOTimeout = 10 * time.Second
)

// StreamOpener opens a bidirectional stream to a node by its QUIC address
// (mutually authenticated, negotiated with alpn). The node passes the
// cluster's transport.
type StreamOpener interface {
	OpenStream(ctx context.Context, quicAddr string, alpn string) (*quic.Stream, error)
}

// Forwarder sends writes and read-index requests of any node to the raft
// leader over QUIC, and serves those requests: the node routes the
// streams of ForwardALPN on its transport to HandleStream.
//
// A forwarded write is retried once when the node it reached was no longer
// the leader. A write whose leader lost leadership after proposing may
// still have been committed, so the retry can report a conflict (create)
// or not_found (delete) for a write that in fact happened: callers that
// need exactly-once semantics use If-Match.
type Forwarder struct {
	store      *Store
	opener     StreamOpener
	leaderQUIC func(leaderID, raftAddr string) string
	log        *slog.Logger

	ctx    context.Context // ends on Close; cancels served requests
	cancel context.CancelFunc
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // requests being served

	tokens tokenLookups // LookupToken's cache and concurrency bound
}

// NewForwarder returns a Forwarder for store. opener dials the leader;
// leaderQUIC maps the raft leader (id and raft address) to its QUIC
// address, nil meaning the identity on the raft address (raft runs over
// the QUIC transport, so the addresses are the same). A nil logger
// discards logs.
func NewForwarder(store *Store, opener StreamOpener, leaderQUIC func(leaderID, raftAddr string) string, logger *slog.Logger) *Forwarder {
	if leaderQUIC == nil {
		leaderQUIC = func(_, raftAddr string) string { return raftAddr }
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Forwarder{store: store, opener: opener, leaderQUIC: leaderQUIC, log: logger, ctx: ctx, cancel: cancel,
		tokens: newTokenLookups()}
}

// Close stops serving: requests in progress are cancelled and answered,
// later ones are told this node is not the leader. It waits for the
// requests in progress and is idempotent. The store and the transport are
// left to the caller.
func (f *Forwarder) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.cancel()
	f.wg.Wait()
	return nil
}

// Apply applies cmd on the leader: locally when this node leads, otherwise
// forwarded. The Result carries the secret generated on the leader for a
// created session or token.
func (f *Forwarder) Apply(ctx context.Context, cmd Command) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, f.store.cfg.WriteTimeout)
	defer cancel()
	var res *Result
	err := f.withLeader(ctx, func(leaderID, addr string) error {
		if addr == "" {
			var err error
			res, err = f.store.Apply(ctx, cmd)
			return err
		}
		b, err := EncodeCommand(&cmd)
		if err != nil {
			return err
		}
		w, err := f.roundTrip(ctx, leaderID, addr, forwardRequest{op: opApply, cmd: b})
		if err != nil {
			return err
		}
		res = &Result{Revision: w.Revision, Index: w.Index, Record: w.Record, Secret: w.Secret}
		if res.Index == 0 {
			// A leader from before batching: its revisions were raft indexes.
			res.Index = res.Revision
		}
		return nil
	})
	return res, err
}

// Linearize makes the next local reads linearizable: it obtains a read
// index from the leader (itself when leading) and waits until the local
// replica has applied it.
func (f *Forwarder) Linearize(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, f.store.cfg.WriteTimeout)
	defer cancel()
	var idx uint64
	err := f.withLeader(ctx, func(leaderID, addr string) error {
		var err error
		if addr == "" {
			idx, err = f.store.ReadIndex(ctx)
			return err
		}
		w, err := f.roundTrip(ctx, leaderID, addr, forwardRequest{op: opReadIndex})
		if err == nil {
			idx = w.Index
		}
		return err
	})
	if err != nil {
		return err
	}
	return f.store.WaitApplied(ctx, idx)
}

// withLeader runs do against the leader's QUIC address ("" when this node
// leads), once more after a short wait when it reports ErrNotLeader.
func (f *Forwarder) withLeader(ctx context.Context, do func(leaderID, addr string) error) error {
	var hint *notLeaderHint
	for attempt := 0; ; attempt++ {
		id, addr, err := f.target(ctx, hint)
		if err != nil {
			return err
		}
		err = do(id, addr)
		if !errors.Is(err, ErrNotLeader) || attempt > 0 {
			return err
		}
		hint = nil
		var nl *notLeaderError
		if errors.As(err, &nl) && nl.hint.ID != "" {
			hint = &nl.hint
		}
		f.log.Debug("control: forward: leader changed, retrying", "err", err)
		t := time.NewTimer(forwardRetryWait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w: forward: %v", ErrUnavailable, ctx.Err())
		case <-t.C:
		}
	}
}

// target returns "" when this node leads, else the leader's id and QUIC
// address: the hint of a node that answered "not leader" when it names
// another node, else the local view, waiting (bounded by ctx) for a leader
// to be known.
func (f *Forwarder) target(ctx context.Context, hint *notLeaderHint) (id, addr string, err error) {
	if f.store.IsLeader() {
		return "", "", nil
	}
	if hint != nil && hint.ID != f.store.cfg.NodeID && hint.Addr != "" {
		return hint.ID, f.leaderQUIC(hint.ID, hint.Addr), nil
	}
	if err := f.store.WaitLeader(ctx); err != nil {
		f.store.CountRefusal("no_leader")
		return "", "", fmt.Errorf("%w: no leader elected: %v", ErrUnavailable, err)
	}
	if f.store.IsLeader() {
		return "", "", nil
	}
	id, raftAddr := f.store.Leader()
	if id == "" || raftAddr == "" {
		return "", "", fmt.Errorf("%w: no leader known", ErrNotLeader)
	}
	return id, f.leaderQUIC(id, raftAddr), nil
}

// errLeaderChanged is the cause that ends a forwarded request when this
// replica sees another leader (or none) than the one it was sent to.
var errLeaderChanged = errors.New("the leader changed while the request was in flight")

// leaderWatchInterval is how often a forwarded request checks that its
// leader is still the one this replica knows.
const leaderWatchInterval = 50 * time.Millisecond

// watchLeader cancels ctx with errLeaderChanged as soon as the local
// replica's view of the leader moves away from what it was when the
// request started, to anything but leaderID: a leader that died answers
// nothing, and without this the request would wait for QUIC's idle
// timeout (30 s). (A request sent to a leader named in a "not leader"
// answer may start while the local view still names the old one.) It
// returns a function that stops the watch.
func (f *Forwarder) watchLeader(ctx context.Context, leaderID string, cancel context.CancelCauseFunc) (stop func()) {
	initial, _ := f.store.Leader()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(leaderWatchInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if id, _ := f.store.Leader(); id != initial && id != leaderID {
					cancel(errLeaderChanged)
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

// roundTrip sends one request to the leader leaderID at addr and decodes
// the answer. It ends early when the local replica sees the leader change.
// Failures are typed for the API (503): a request that could not be sent
// is ErrUnavailable (or ErrNotLeader when the leader changed first, so
// withLeader retries at the new one); a write that was sent and got no
// answer is ErrIndeterminate, since it may have been committed.
func (f *Forwarder) roundTrip(ctx context.Context, leaderID, addr string, req forwardRequest) (*forwardResult, error) {
	if dl, ok := ctx.Deadline(); ok {
		req.timeout = time.Until(dl)
		if req.timeout <= 0 {
			return nil, fmt.Errorf("%w: forward: %v", ErrUnavailable, context.DeadlineExceeded)
		}
	}
	frame, err := encodeForwardRequest(req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer f.watchLeader(ctx, leaderID, cancel)()
	s, err := f.opener.OpenStream(ctx, addr, ForwardALPN)
	if err != nil {
		if errors.Is(context.Cause(ctx), errLeaderChanged) {
			f.store.CountRefusal("leader_changed")
			return nil, fmt.Errorf("%w: forward to %s: %v", ErrNotLeader, addr, errLeaderChanged)
		}
		f.store.CountRefusal("leader_unreachable")
		return nil, fmt.Errorf("%w: forward to %s: %v", ErrUnavailable, addr, err)
	}
	defer s.CancelRead(0)
	// A past deadline unblocks Write and Read when ctx ends.
	stop := context.AfterFunc(ctx, func() { _ = s.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	body, err := exchange(s, frame)
	if err != nil {
		if ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		if errors.Is(err, errLeaderChanged) {
			f.store.CountRefusal("leader_changed")
		} else {
			f.store.CountRefusal("leader_unreachable")
		}
		f.log.Warn("control: forward: no answer from the leader", "leader", leaderID, "addr", addr, "err", err)
		if req.op == opApply {
			return nil, fmt.Errorf("%w: forward to %s: %v", ErrIndeterminate, addr, err)
		}
		return nil, fmt.Errorf("%w: forward to %s: %v", ErrUnavailable, addr, err)
	}
	w, err := decodeForwardResponse(body)
	if err != nil {
		var nl *notLeaderError
		if errors.As(err, &nl) {
			nl.from = addr
		}
		return nil, err
	}
	return w, nil
}

// exchange writes frame, closes the write side and reads one response.
// The server stops reading once it has the whole frame (STOP_SENDING), so
// closing the write side may fail after the request was delivered: the
// response decides, and a close error is only reported when none came.
func exchange(s *quic.Stream, frame []byte) ([]byte, error) {
	if _, err := s.Write(frame); err != nil {
		return nil, err
	}
	closeErr := s.Close()
	body, err := readFrame(s, maxForwardResponse)
	if err != nil && closeErr != nil {
		return nil, fmt.Errorf("%w (closing the request: %v)", err, closeErr)
	}
	return body, err
}

// HandleStream answers one forwarded request on s, a stream of
// ForwardALPN from the node peer (the name its verified certificate
// carries, for logs). ctx ends when the connection or the transport
// closes; the caller closes s after HandleStream returns.
func (f *Forwarder) HandleStream(ctx context.Context, peer string, s *quic.Stream) {
	_ = s.SetDeadline(time.Now().Add(forwardIOTimeout))
	var resp []byte
	body, err := readFrame(s, maxForwardRequest)
	if err == nil {
		var req forwardRequest
		if req, err = decodeForwardRequest(body); err == nil {
			resp = f.answer(ctx, peer, req)
		}
	}
	if err != nil {
		f.log.Warn("control: forward: bad request", "peer", peer, "err", err)
		resp = encodeForwardResponse(statusBadRequest, []byte(err.Error()))
	}
	_ = s.SetDeadline(time.Now().Add(forwardIOTimeout))
	if _, err := s.Write(resp); err != nil {
		f.log.Debug("control: forward: write response", "peer", peer, "err", err)
	}
}

// answer runs req against the store, bounded by its timeout, and encodes
// the response frame.
func (f *Forwarder) answer(ctx context.Context, peer string, req forwardRequest) []byte {
	if !f.enter() {
		return f.errorResponse(ErrClosed)
	}
	defer f.wg.Done()
	timeout := req.timeout
	if timeout <= 0 || timeout > forwardMaxTimeout {
		timeout = forwardMaxTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stop := context.AfterFunc(f.ctx, cancel)
	defer stop()
	switch req.op {
	case opApply:
		cmd, err := DecodeCommand(req.cmd)
		if err != nil {
			return f.errorResponse(err)
		}
		if !f.store.IsLeader() {
			return f.errorResponse(ErrNotLeader)
		}
		res, err := f.store.Apply(ctx, *cmd)
		if err != nil {
			f.log.Debug("control: forward: apply", "peer", peer, "err", err)
			return f.errorResponse(err)
		}
		return okResponse(&forwardResult{Revision: res.Revision, Index: res.Index, Record: res.Record, Secret: res.Secret})
	case opTokenLookup:
		if !f.store.IsLeader() {
			return f.errorResponse(ErrNotLeader)
		}
		t, err := f.store.TokenByHash(string(req.cmd))
		if err != nil {
			return f.errorResponse(err)
		}
		rec, err := json.Marshal(t)
		if err != nil {
			return f.errorResponse(err)
		}
		return okResponse(&forwardResult{Record: rec})
	default: // opReadIndex; the decoder admits nothing else
		idx, err := f.store.ReadIndex(ctx)
		if err != nil {
			return f.errorResponse(err)
		}
		return okResponse(&forwardResult{Index: idx})
	}
}

// enter counts a request in; false after Close.
func (f *Forwarder) enter() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.wg.Add(1)
	return true
}

// errorResponse encodes err: catalog errors keep their type; a node that
// is not (or no longer) leading, or is closing, answers "not leader" with
// the leader it knows.
func (f *Forwarder) errorResponse(err error) []byte {
	var ce *Error
	switch {
	case errors.As(err, &ce):
		return jsonResponse(statusCatalogError, ce)
	case errors.Is(err, ErrIndeterminate):
		return encodeForwardResponse(statusIndeterminate, []byte(err.Error()))
	case errors.Is(err, ErrNotLeader), errors.Is(err, ErrClosed):
		id, addr := f.store.Leader()
		if id == f.store.cfg.NodeID {
			id, addr = "", "" // stale view of ourselves: no useful hint
		}
		return jsonResponse(statusNotLeader, notLeaderHint{ID: id, Addr: addr})
	default:
		return encodeForwardResponse(statusFailed, []byte(err.Error()))
	}
}
