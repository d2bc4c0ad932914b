package cluster

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

	"github.com/classmesh/classmesh/node/origin"
)

// RemoteOrigin is an origin.Origin whose library lives on the origin-role
// members of the cluster, reached with the remote-origin protocol.
//
// Member choice, kept simple: List asks every live origin member (sorted
// by ID, self excluded) and merges the answers by asset ID, the first
// member in ID order winning a duplicate; it remembers which member
// advertised each file. Open asks that member first, then the other origin
// members in ID order, and binds the Object to the first one that has the
// file. An Object never changes member: if its member goes away or the
// file's identity changes, ReadAt fails (origin.ErrUnavailable, or
// origin.ErrChanged) and the caller reopens.
//
// Objects read in aligned blocks (RemoteConfig.BlockSize) and keep the
// last few (CacheBlocks) in memory. Every READ answer carries the file's
// identity; a mismatch with the identity seen at Open is origin.ErrChanged.
type RemoteOrigin struct {
	cfg  RemoteConfig
	src  MemberSource
	open opener
	log  *slog.Logger

	mu    sync.Mutex
	where map[string]string // file path -> member ID that listed it
}

var _ origin.Origin = (*RemoteOrigin)(nil)

// NewRemoteOrigin returns a RemoteOrigin over t choosing members from src.
func NewRemoteOrigin(t *Transport, src MemberSource, cfg RemoteConfig) (*RemoteOrigin, error) {
	return newRemoteOrigin(cfg, src, func(ctx context.Context, addr, alpn string) (stream, error) {
		s, err := t.OpenStream(ctx, addr, alpn)
		if err != nil {
			return nil, err
		}
		return s, nil
	})
}

func newRemoteOrigin(cfg RemoteConfig, src MemberSource, open opener) (*RemoteOrigin, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &RemoteOrigin{cfg: cfg, src: src, open: open, log: cfg.Logger, where: map[string]string{}}, nil
}

// String describes the origin for logs.
func (r *RemoteOrigin) String() string { return "cluster:" + OriginALPN }

// origins returns the live origin members other than self, sorted by ID.
func (r *RemoteOrigin) origins() []Member {
	self := r.src.Self().ID
	var out []Member
	for _, m := range r.src.Members() {
		if m.Has(RoleOrigin) && memberLive(m) && m.QUICAddr != "" && m.ID != self && !m.Self {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// List merges the asset lists of every reachable origin member. It fails
// with origin.ErrUnavailable only when no origin member answered.
func (r *RemoteOrigin) List(ctx context.Context) ([]origin.AssetSpec, error) {
	members := r.origins()
	if len(members) == 0 {
		return nil, fmt.Errorf("cluster: list: %w: no origin member", origin.ErrUnavailable)
	}
	merged := map[string]origin.AssetSpec{}
	where := map[string]string{}
	var errs []error
	answered := false
	for _, m := range members {
		assets, err := r.listOne(ctx, m)
		if err != nil {
			r.log.Warn("cluster: remote list failed", "member", m.ID, "err", err)
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
		return nil, fmt.Errorf("cluster: list: %w", errors.Join(errs...))
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
func (r *RemoteOrigin) listOne(ctx context.Context, m Member) ([]origin.AssetSpec, error) {
	_, body, err := r.roundTrip(ctx, m, OriginRequest{Op: OpList}, MaxOriginList)
	if err != nil {
		return nil, err
	}
	var raw []origin.AssetSpec
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("cluster: list from %s: %w: %w", m.ID, origin.ErrUnavailable, err)
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
func (r *RemoteOrigin) Open(ctx context.Context, path string) (origin.Object, error) {
	p, err := origin.CleanPath(path)
	if err != nil {
		return nil, err
	}
	members := r.origins()
	r.mu.Lock()
	pref := r.where[p]
	r.mu.Unlock()
	if i := slices.IndexFunc(members, func(m Member) bool { return m.ID == pref }); i > 0 {
		m := members[i]
		members = append([]Member{m}, slices.Delete(members, i, i+1)...)
	}
	var errs []error
	for _, m := range members {
		h, _, err := r.roundTrip(ctx, m, OriginRequest{Op: OpStat, Path: p}, 0)
		switch {
		case err == nil:
			return newRemoteObject(r, m, p, h.Size, h.Identity), nil
		case errors.Is(err, origin.ErrBadPath), ctx.Err() != nil:
			return nil, err
		}
		errs = append(errs, err)
	}
	if len(errs) > 0 && !allNotFound(errs) {
		return nil, fmt.Errorf("cluster: open %q: %w", p, errors.Join(errs...))
	}
	return nil, fmt.Errorf("cluster: open %q: %w", p, origin.ErrNotFound)
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
// transport errors wrap origin.ErrUnavailable and ErrPeerUnavailable.
func (r *RemoteOrigin) roundTrip(ctx context.Context, m Member, req OriginRequest, limit int64) (originResponse, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	fail := func(stage string, err error) (originResponse, []byte, error) {
		return originResponse{}, nil, fmt.Errorf("cluster: origin %s on %s: %w: %w: %w",
			stage, m.ID, origin.ErrUnavailable, ErrPeerUnavailable, err)
	}
	frame, err := req.MarshalBinary()
	if err != nil {
		return originResponse{}, nil, err
	}
	st, err := r.open(ctx, m.QUICAddr, OriginALPN)
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
	if _, err := st.Write(frame); err != nil {
		return fail("send", err)
	}
	_ = st.Close()
	h, err := decodeOriginResponse(st)
	if err != nil {
		return fail("header", err)
	}
	if h.Status != FillOK {
		return h, nil, statusErr(m, req, h)
	}
	if req.Op == OpStat {
		return h, nil, nil
	}
	if h.Size > limit {
		return fail("body", fmt.Errorf("%w: body of %d bytes exceeds %d", ErrMalformed, h.Size, limit))
	}
	body := make([]byte, h.Size)
	if _, err := io.ReadFull(st, body); err != nil {
		return fail("body", err)
	}
	return h, body, nil
}

// statusErr maps a non-OK answer to an origin error.
func statusErr(m Member, req OriginRequest, h originResponse) error {
	base := origin.ErrUnavailable
	switch h.Status {
	case FillNotFound:
		base = origin.ErrNotFound
	case FillUnprocessable:
		base = origin.ErrBadPath
	}
	return fmt.Errorf("cluster: origin %q on %s: %w: %s: %s", req.Path, m.ID, base, h.Status, h.Message)
}
