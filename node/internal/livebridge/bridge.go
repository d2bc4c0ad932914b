package livebridge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/classmesh/classmesh/cluster"
	"github.com/classmesh/classmesh/cluster/relay"
	"github.com/classmesh/classmesh/control"
	"github.com/classmesh/classmesh/node/live"
)

// Errors returned by the package.
var (
	// ErrConfig means a Config is missing a required part.
	ErrConfig = errors.New("livebridge: invalid config")
	// ErrClosed means the bridge was closed.
	ErrClosed = errors.New("livebridge: closed")
	// ErrNoMedia means a relayed session had no media within
	// Config.ReadyTimeout.
	ErrNoMedia = errors.New("livebridge: no media from the relay yet")
)

// Relay is what the bridge uses of the cluster's relay; ClusterRelay
// adapts a *relay.Relay.
type Relay interface {
	Publish(track string) (TrackWriter, error)
	Subscribe(ctx context.Context, from, track string) (TrackReader, error)
}

// TrackWriter publishes one relay track (*relay.TrackPublisher).
type TrackWriter interface {
	SetInit(b []byte)
	Write(o relay.Object)
	Close()
}

// TrackReader reads one relay subscription (*relay.Subscription).
type TrackReader interface {
	Next(ctx context.Context) (relay.Object, error)
	Close()
}

// ClusterRelay adapts r to Relay.
func ClusterRelay(r *relay.Relay) Relay { return clusterRelay{r} }

type clusterRelay struct{ r *relay.Relay }

func (c clusterRelay) Publish(track string) (TrackWriter, error) {
	p, err := c.r.Publish(track)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (c clusterRelay) Subscribe(ctx context.Context, from, track string) (TrackReader, error) {
	s, err := c.r.Subscribe(ctx, from, track)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Catalog is what the bridge reads and writes in the catalog: the local
// replica's live sessions and a write that reaches the leader.
type Catalog interface {
	Sessions() ([]control.LiveSession, error)
	Session(id string) (*control.LiveSession, error)
	Apply(ctx context.Context, cmd control.Command) (*control.Result, error)
}

// Members is what the bridge needs of the cluster's membership: this
// node, the alive (verified) members, and the ring owner of a key among a
// region's edges.
type Members interface {
	Self() cluster.Member
	Members() []cluster.Member
	Owner(key, region string) (cluster.Member, bool)
}

// Defaults for zero Config fields.
const (
	DefaultIdleTimeout  = 30 * time.Second
	DefaultReadyTimeout = 5 * time.Second
	DefaultHousekeeping = time.Second
)

// Config configures a Bridge. Manager, Relay, Catalog and Members are
// required.
type Config struct {
	Manager *live.Manager
	Relay   Relay
	Catalog Catalog
	Members Members
	// RelayParent is the node ID or QUIC address this node subscribes
	// through (--relay-parent). Empty: the region's relay node or the
	// ingest node (see Upstream).
	RelayParent string
	// Renditions are the tracks of a session. Nil means video and audio.
	Renditions []string
	// Adopt, when not nil, turns a finished recording into a library
	// asset and returns its ID ("" when there is none). It runs on a
	// goroutine of the bridge.
	Adopt func(session string, rec live.Recording) string
	// OnSegment, when not nil, is called when a segment of a track is
	// complete here (both sides), e.g. to publish its hash.
	OnSegment func(session, rendition string, tr *live.Track, msn int64)
	// IdleTimeout is how long an edge keeps a relay subscription without
	// viewers. Zero means 30 s.
	IdleTimeout time.Duration
	// ReadyTimeout bounds how long Attach waits for a relayed session's
	// first part. Zero means 5 s.
	ReadyTimeout time.Duration
	// Housekeeping is the period of the housekeeping loop. Zero means 1 s.
	Housekeeping time.Duration
	// Logger receives the bridge's log lines. Nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the bridge's metrics. Nil means a private
	// registry.
	Registerer prometheus.Registerer
}

func (c Config) withDefaults() Config {
	if len(c.Renditions) == 0 {
		c.Renditions = []string{live.RenditionVideo, live.RenditionAudio}
	}
	c.IdleTimeout = cmp.Or(c.IdleTimeout, DefaultIdleTimeout)
	c.ReadyTimeout = cmp.Or(c.ReadyTimeout, DefaultReadyTimeout)
	c.Housekeeping = cmp.Or(c.Housekeeping, DefaultHousekeeping)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	return c
}

// Validate reports a missing required part.
func (c Config) Validate() error {
	switch {
	case c.Manager == nil:
		return fmt.Errorf("%w: no live manager", ErrConfig)
	case c.Relay == nil:
		return fmt.Errorf("%w: no relay", ErrConfig)
	case c.Catalog == nil:
		return fmt.Errorf("%w: no catalog", ErrConfig)
	case c.Members == nil:
		return fmt.Errorf("%w: no members", ErrConfig)
	}
	return nil
}

// Bridge moves live objects between node/live and the relay. Every
// goroutine it starts is counted in wg and ends when ctx does.
type Bridge struct {
	cfg Config
	log *slog.Logger
	m   *metrics

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	started bool
	feeds   map[string]*feed   // publish side: session → relay publishing
	remotes map[string]*remote // edge side: session → relay subscription
}

// New validates cfg and returns a Bridge. It starts nothing.
func New(cfg Config) (*Bridge, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Bridge{cfg: cfg, log: cfg.Logger, m: m, ctx: ctx, cancel: cancel,
		feeds: map[string]*feed{}, remotes: map[string]*remote{}}, nil
}

// Start starts the housekeeping loop; it stops when ctx ends or on Close.
func (b *Bridge) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return ErrClosed
	case b.started:
		return nil
	}
	b.started = true
	b.goLocked(func() { b.housekeeping(ctx) })
	return nil
}

// Close stops every goroutine the bridge started and waits for them.
// Publishers' relay tracks end; relayed sessions are removed. Only the
// first call does anything.
func (b *Bridge) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	ids := make([]string, 0, len(b.remotes))
	for id := range b.remotes {
		ids = append(ids, id)
	}
	clear(b.remotes)
	b.mu.Unlock()
	b.cancel()
	b.wg.Wait()
	for _, id := range ids {
		b.cfg.Manager.Remove(id)
	}
	return nil
}

// goTracked runs f on a goroutine counted in wg unless the bridge is
// closed; it reports whether f runs.
func (b *Bridge) goTracked(f func()) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.goLocked(f)
	return true
}

func (b *Bridge) goLocked(f func()) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		f()
	}()
}

// housekeeping ends local sessions that the catalog says have ended
// (POST /api/v1/sessions/{id}/end) and drops relayed sessions without
// viewers. It reads no media: data moves through cursors.
func (b *Bridge) housekeeping(ctx context.Context) {
	t := time.NewTicker(b.cfg.Housekeeping)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.ctx.Done():
			return
		case <-t.C:
		}
		b.endSessionsEndedInCatalog()
		b.dropIdleRemotes(time.Now())
	}
}

func (b *Bridge) endSessionsEndedInCatalog() {
	for _, s := range b.cfg.Manager.Sessions() {
		if s.Remote() || s.Ended() {
			continue
		}
		if rec, err := b.cfg.Catalog.Session(s.ID()); err == nil && rec.State == control.SessionEnded {
			b.log.Info("livebridge: live session ended through the API", "session", s.ID())
			_ = b.cfg.Manager.End(s.ID())
		}
	}
}

// waitTimer waits d or until ctx ends; it reports whether d passed.
func waitTimer(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
