package segsource

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/classmesh/classmesh/cache"
	"github.com/classmesh/classmesh/node/vod"
)

// DefaultMaxHops is Config.MaxHops when zero: cluster/fill.MaxFillHops.
const DefaultMaxHops = 2

// ErrConfig means a Config is missing a required part.
var ErrConfig = errors.New("segsource: invalid config")

// Cache is the node's segment cache (*cache.Cache): one fill per key,
// every waiter streams while it runs.
type Cache interface {
	Get(ctx context.Context, key string, size int64, fill cache.FillFunc, opts ...cache.GetOption) (*cache.Entry, error)
}

// Peer is another node as the Source sees it: its ID and the address of
// its fill protocol.
type Peer struct {
	ID   string
	Addr string
}

// Ring is this node's current view of which node owns a key.
type Ring interface {
	// Owner returns the owner of key among region's nodes and the epoch
	// of the view it was read from; ok is false when the view is empty.
	Owner(key, region string) (owner Peer, epoch uint64, ok bool)
}

// Peers is the fill protocol's client.
type Peers interface {
	// Fetch asks owner for req and streams the body into w as it
	// arrives. It returns the number of body bytes written to w, also
	// with an error: they are the first bytes of the segment.
	Fetch(ctx context.Context, owner Peer, req Request, w io.Writer) (written int64, err error)
}

// Packager is the VOD library (*vod.Library): the assets this node knows
// and the packaging of a segment from the origin.
type Packager interface {
	Asset(id string) (*vod.Asset, bool)
	CacheKey(a *vod.Asset, r *vod.Rendition, name string) string
	WriteSegment(ctx context.Context, a *vod.Asset, r *vod.Rendition, n int, w io.Writer) error
}

// Request is a fill request between nodes, as the fill protocol carries
// it (cluster/fill.FillRequest).
type Request struct {
	Ref SegmentRef
	// Hop counts the nodes the request has reached: 1 from the learner's
	// node, 2 after one forward (see the package invariants).
	Hop uint8
	// Epoch is the sender's ring epoch (diagnostics).
	Epoch uint64
	// Requester is the sending node's ID; Region the region the learner
	// is served in.
	Requester, Region string
	// Source is the source identity the requester indexed
	// (vod.Rendition.SourceID), "" when unknown.
	Source string
}

// Response is the fill protocol's answer as Serve writes it: one header
// with the body's size and SHA-256 (nil when not known yet), then exactly
// size body bytes.
type Response interface {
	WriteHeader(size int64, sha256 []byte) error
	io.Writer
}

// Config configures a Source. Self, Cache, Ring, Peers and Packager are
// required.
type Config struct {
	// Self is this node's ID (cluster member ID).
	Self string
	// Region is the region this node's learners are served in.
	Region   string
	Cache    Cache
	Ring     Ring
	Peers    Peers
	Packager Packager
	// MaxHops bounds the hops of a fill request. Zero means
	// DefaultMaxHops; node passes cluster/fill.MaxFillHops.
	MaxHops uint8
	// Logger receives the Source's log lines. Nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives classmesh_fill_forwards_total. Nil means a
	// private registry.
	Registerer prometheus.Registerer
}

// Validate reports a missing required part.
func (c Config) Validate() error {
	switch {
	case c.Self == "":
		return fmt.Errorf("%w: no node ID", ErrConfig)
	case c.Cache == nil:
		return fmt.Errorf("%w: no cache", ErrConfig)
	case c.Ring == nil:
		return fmt.Errorf("%w: no ring", ErrConfig)
	case c.Peers == nil:
		return fmt.Errorf("%w: no fill client", ErrConfig)
	case c.Packager == nil:
		return fmt.Errorf("%w: no packager", ErrConfig)
	}
	return nil
}

func (c Config) withDefaults() Config {
	c.MaxHops = cmp.Or(c.MaxHops, DefaultMaxHops)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	return c
}

// Source owns the VOD segments of one node. It is safe for concurrent
// use.
type Source struct {
	cfg Config
	log *slog.Logger
	m   *metrics
}

// New returns a Source for cfg. It starts nothing.
func New(cfg Config) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Source{cfg: cfg, log: cfg.Logger, m: m}, nil
}

// target is a SegmentRef resolved against the library.
type target struct {
	ref   SegmentRef
	asset *vod.Asset
	rend  *vod.Rendition
	size  int64
	key   string // cache key
}

// resolve looks ref up in the library. Errors wrap vod.ErrNotFound (no
// such asset, rendition or segment; an init ref, which is served from the
// index and never filled) or vod.ErrAssetFailed.
func (s *Source) resolve(ref SegmentRef) (target, error) {
	if ref.Kind != KindSegment {
		return target{}, fmt.Errorf("segsource: no object %q to fill: %w", ref.Object(), vod.ErrNotFound)
	}
	a, ok := s.cfg.Packager.Asset(ref.Asset)
	if !ok {
		return target{}, fmt.Errorf("segsource: no asset %q: %w", ref.Asset, vod.ErrNotFound)
	}
	if a.Status != vod.StatusReady {
		return target{}, fmt.Errorf("segsource: asset %q failed: %s: %w", a.ID, a.Reason, vod.ErrAssetFailed)
	}
	rend, ok := a.Rendition(ref.Rendition)
	if !ok {
		return target{}, fmt.Errorf("segsource: no rendition %q: %w", ref.Rendition, vod.ErrNotFound)
	}
	size, err := rend.SegmentSize(ref.Number)
	if err != nil {
		return target{}, fmt.Errorf("segsource: %w", err)
	}
	return target{ref: ref, asset: a, rend: rend, size: size, key: s.cfg.Packager.CacheKey(a, rend, ref.Object())}, nil
}

// Get returns segment ref for a learner of this node: from the cache,
// else from the single fill it starts or joins (Source.load at hop 0).
// The caller must Release the entry. Errors wrap vod.ErrNotFound,
// vod.ErrAssetFailed, the cache's errors or the fill's (the origin's).
func (s *Source) Get(ctx context.Context, ref SegmentRef) (*cache.Entry, error) {
	t, err := s.resolve(ref)
	if err != nil {
		return nil, err
	}
	return s.cfg.Cache.Get(ctx, t.key, t.size, s.load(t, from{region: s.cfg.Region}))
}

// Serve answers another node's fill request (the fill server's handler):
// from this node's cache, else from the single fill at the request's hop
// (Source.load): the origin when this node owns the segment in its view,
// the request was already forwarded, or the owner it sees is the
// requester; else one forward to that owner. An error returned before
// w's header wraps vod.ErrNotFound (also for a source identity other
// than the one indexed here), vod.ErrAssetFailed, or the fill's error;
// one after it means the body is incomplete.
func (s *Source) Serve(ctx context.Context, req Request, w Response) error {
	t, err := s.resolve(req.Ref)
	if err != nil {
		return err
	}
	if req.Source != "" && req.Source != t.rend.SourceID {
		return fmt.Errorf("segsource: source identity %q differs from %q here: %w", req.Source, t.rend.SourceID, vod.ErrNotFound)
	}
	e, err := s.cfg.Cache.Get(ctx, t.key, t.size, s.load(t, from{
		hop: max(req.Hop, 1), requester: req.Requester, region: req.Region,
	}))
	if err != nil {
		return err
	}
	defer e.Release()
	var sum []byte
	if h, ok := e.SHA256(); ok {
		sum = h[:]
	}
	if err := w.WriteHeader(t.size, sum); err != nil {
		return err
	}
	if body := e.Bytes(); body != nil {
		_, err = w.Write(body)
		return err
	}
	var src io.Reader
	if rs := e.ReadSeeker(); rs != nil {
		src = rs
	} else {
		rd := e.NewReader(ctx)
		defer rd.Close()
		src = rd
	}
	_, err = io.Copy(w, src)
	return err
}
