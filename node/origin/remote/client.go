package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/classmesh/classmesh/internal/frame"
	"github.com/classmesh/classmesh/node/origin"
)

// Stream is the part of a QUIC stream the protocol uses; *quic.Stream
// implements it.
type Stream interface {
	io.Reader
	io.Writer
	Close() error
	CancelRead(quic.StreamErrorCode)
	CancelWrite(quic.StreamErrorCode)
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
	Context() context.Context
}

var _ Stream = (*quic.Stream)(nil)

// Peer is an origin-role member as the client sees it.
type Peer struct {
	ID   string // node ID
	Addr string // QUIC address
}

// Cluster is what the client needs from the cluster. node implements it
// over cluster.Peers and the transport.
type Cluster interface {
	// Origins returns the live, verified origin-role members other than
	// this node, sorted by ID.
	Origins() []Peer
	// OpenStream opens a stream to the member at addr speaking alpn.
	OpenStream(ctx context.Context, addr, alpn string) (Stream, error)
}

// Origin is an origin.Origin whose library lives on the origin-role
// members of the cluster, reached with the remote-origin protocol.
//
// Member choice, kept simple: List asks every origin member (Cluster.Origins,
// in ID order) and merges the answers by asset ID, the first member in ID
// order winning a duplicate; it remembers which member advertised each
// file. Open asks that member first, then the other origin members in ID
// order, and binds the Object to the first one that has the file. An
// Object never changes member: if its member goes away or the file's
// identity changes, ReadAt fails (origin.ErrUnavailable, or
// origin.ErrChanged) and the caller reopens.
//
// Objects read in aligned blocks (Config.BlockSize) and keep the last few
// (CacheBlocks) in memory. Every READ answer carries the file's identity; a
// mismatch with the identity seen at Open is origin.ErrChanged.
type Origin struct {
	cfg Config
	c   Cluster
	log *slog.Logger

	mu    sync.Mutex
	where map[string]string // file path -> member ID that listed it
}

var _ origin.Origin = (*Origin)(nil)

// New returns an Origin reading from the origin members of c. It starts
// nothing: every request opens its own stream.
func New(c Cluster, cfg Config) (*Origin, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("remote: nil cluster")
	}
	cfg = cfg.withDefaults()
	return &Origin{cfg: cfg, c: c, log: cfg.Logger, where: map[string]string{}}, nil
}

// String describes the origin for logs.
func (r *Origin) String() string { return "cluster:" + ALPN }

// List merges the asset lists of every reachable origin member. It fails
// with origin.ErrUnavailable only when no origin member answered.
func (r *Origin) List(ctx context.Context) ([]origin.AssetSpec, error) {
	members := r.c.Origins()
	if len(members) == 0 {
		return nil, fmt.Errorf("remote: list: %w: no origin member", origin.ErrUnavailable)
	}
	merged := map[string]origin.AssetSpec{}
	where := map[string]string{}
	var errs []error
	answered := false
	for _, m := range members {
		assets, err := r.listOne(ctx, m)
		if err != nil {
			r.log.Warn("remote: list failed", "member", m.ID, "err", err)
			errs = append(errs, err)
			continue
		}
		answered = true
		for _, a := range assets {
			if _, dup := merged[a.ID]; dup {
				continue
			}
			merged[a.ID] = a
			for _, f := range a.Files {
				where[f] = m.ID
			}
		}
	}
	if !answered {
		return nil, fmt.Errorf("remote: list: %w", errors.Join(errs...))
	}
	r.mu.Lock()
	r.where = where
	r.mu.Unlock()
	out := make([]origin.AssetSpec, 0, len(merged))
	for _, a := range merged {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b origin.AssetSpec) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// listOne fetches and validates one member's list; invalid assets and
// files are dropped.
func (r *Origin) listOne(ctx context.Context, m Peer) ([]origin.AssetSpec, error) {
	_, body, err := r.roundTrip(ctx, m, Request{Op: OpList}, MaxList)
	if err != nil {
		return nil, err
	}
	var raw []origin.AssetSpec
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("remote: list from %s: %w: %w", m.ID, origin.ErrUnavailable, err)
	}
	out := raw[:0]
	for _, a := range raw {
		if !origin.ValidID(a.ID) {
			continue
		}
		a.Files = slices.DeleteFunc(a.Files, func(f string) bool {
			_, err := origin.CleanPath(f)
			return err != nil
		})
		out = append(out, a)
	}
	return out, nil
}

// Open stats path on the member that listed it, else on each origin
// member in turn, and returns an Object bound to the first that has it.
func (r *Origin) Open(ctx context.Context, path string) (origin.Object, error) {
	p, err := origin.CleanPath(path)
	if err != nil {
		return nil, err
	}
	members := r.c.Origins()
	r.mu.Lock()
	pref := r.where[p]
	r.mu.Unlock()
	if i := slices.IndexFunc(members, func(m Peer) bool { return m.ID == pref }); i > 0 {
		m := members[i]
		members = append([]Peer{m}, slices.Delete(members, i, i+1)...)
	}
	var errs []error
	for _, m := range members {
		h, _, err := r.roundTrip(ctx, m, Request{Op: OpStat, Path: p}, 0)
		switch {
		case err == nil:
			return newObject(r, m, p, h.Size, h.Identity), nil
		case errors.Is(err, origin.ErrBadPath), ctx.Err() != nil:
			return nil, err
		}
		errs = append(errs, err)
	}
	if len(errs) > 0 && !allNotFound(errs) {
		return nil, fmt.Errorf("remote: open %q: %w", p, errors.Join(errs...))
	}
	return nil, fmt.Errorf("remote: open %q: %w", p, origin.ErrNotFound)
}

func allNotFound(errs []error) bool {
	for _, e := range errs {
		if !errors.Is(e, origin.ErrNotFound) {
			return false
		}
	}
	return true
}

// roundTrip sends one request to m and returns the header and, for LIST
// and READ, the body of at most limit bytes. Status errors wrap
// origin.ErrNotFound, origin.ErrBadPath or origin.ErrUnavailable;
// transport errors wrap origin.ErrUnavailable.
func (r *Origin) roundTrip(ctx context.Context, m Peer, req Request, limit int64) (response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	fail := func(stage string, err error) (response, []byte, error) {
		return response{}, nil, fmt.Errorf("remote: origin %s on %s: %w: %w",
			stage, m.ID, origin.ErrUnavailable, err)
	}
	b, err := req.MarshalBinary()
	if err != nil {
		return response{}, nil, err
	}
	st, err := r.c.OpenStream(ctx, m.Addr, ALPN)
	if err != nil {
		return fail("open stream", err)
	}
	defer st.CancelRead(0)
	stop := context.AfterFunc(ctx, func() {
		st.CancelRead(codeCanceled)
		st.CancelWrite(codeCanceled)
	})
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = st.SetReadDeadline(dl)
		_ = st.SetWriteDeadline(dl)
	}
	if _, err := st.Write(b); err != nil {
		return fail("send", err)
	}
	_ = st.Close()
	h, err := decodeResponse(st)
	if err != nil {
		return fail("header", err)
	}
	if h.Status != StatusOK {
		return h, nil, statusErr(m, req, h)
	}
	if req.Op == OpStat {
		return h, nil, nil
	}
	if h.Size > limit {
		return fail("body", fmt.Errorf("%w: body of %d bytes exceeds %d", frame.ErrMalformed, h.Size, limit))
	}
	body := make([]byte, h.Size)
	if _, err := io.ReadFull(st, body); err != nil {
		return fail("body", err)
	}
	return h, body, nil
}

// statusErr maps a non-OK answer to an origin error.
func statusErr(m Peer, req Request, h response) error {
	base := origin.ErrUnavailable
	switch h.Status {
	case StatusNotFound:
		base = origin.ErrNotFound
	case StatusUnprocessable:
		base = origin.ErrBadPath
	}
	return fmt.Errorf("remote: origin %q on %s: %w: %s: %s", req.Path, m.ID, base, h.Status, h.Message)
}
